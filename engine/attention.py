"""AdaAttN (Liu et al. 2021, Eq. 4–7) without materialising the N_c × N_s attention matrix.

A = softmax(Q Kᵀ) (no 1/√d scaling), M = A V, S = sqrt(relu(A (V⊙V) − M⊙M)),
output = S ⊙ Norm(F_c) + M.

M and A(V⊙V) come out of one ``scaled_dot_product_attention`` call whose values are
[V, V⊙V] (for CUDA inference, of two matrix products per block of queries). V is centred
by its channel mean first: the variance is shift-invariant, and centring stops
E[V²] − E[V]² from cancelling catastrophically in reduced precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.options import RELEASE_SEED, StyleReduction

NORM_EPS = 1e-5

# Style positions per level above which "pooled" and "release" (engine.options) reduce them.
POOLED_MAX_POSITIONS = {3: 64 * 64, 4: 64 * 64, 5: 64 * 64}
RELEASE_MAX_POSITIONS = {3: 64 * 64, 4: 256 * 256, 5: 256 * 256}
# Logits per block of the GPU's explicit attention: 1 GiB in float32.
BLOCK_LOGITS = 1 << 28


def mean_std(x: torch.Tensor, eps: float = NORM_EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sample and channel: mean and sqrt(unbiased variance + eps), shaped (B, C, 1, 1)."""
    # One pass over the map, and no flattening copy of a strided view (the keys' resized
    # parts are every k-th position of a larger map).
    var, mean = torch.var_mean(x, dim=(2, 3), correction=1, keepdim=True)
    return mean, (var + eps).sqrt()


def normalize(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """The paper's Norm: channel-wise mean/variance normalisation, per sample. Statistics
    are taken in float32 whatever the input's precision; the result has x's dtype, or
    ``out``'s when it is written there (a slice of a larger map: no copy afterwards)."""
    full = x.float()
    mean, std = mean_std(full)
    if out is not None:
        return torch.div(full - mean, std, out=out)
    return ((full - mean) / std).to(x.dtype)


@dataclass
class StyleMemory:
    """What one AdaAttN level needs of a style image; computed once per style and reused.

    Widths are padded to a common ``width`` where the CPU kernel needs it (see
    ``_common_width``); the padding is zeros and changes no result."""

    keys: torch.Tensor  # (B, N_s, width): the logit keys, positions along dim 1
    values: torch.Tensor  # (B, N_s, width): [V − v̄, (V − v̄)²], zero-padded
    value_mean: torch.Tensor  # (B, 1, C): v̄, added back to the attention-weighted mean
    channels: int  # C
    key_width: int  # the keys' columns before padding (D_k, plus 1 when folded)
    # Whether the keys carry f (AdaAttN at inference): queries are then the content's raw
    # key with a 1 in column D_k, where the keys hold a per-position logit term.
    folded: bool = False


def _common_width(device: torch.device, key_width: int, value_width: int) -> int:
    # On the CPU, SDPA takes its fused, low-memory path only when q, k and v share their
    # last dimension; otherwise it silently materialises the matrix. Zero-padding to one
    # width (a whole number of 16-float rows, for the bias column's odd widths) keeps it
    # fused. CUDA's memory-efficient kernel takes mixed widths as they are.
    if device.type == "cpu":
        return -(-max(key_width, value_width) // 16) * 16
    return 0


def _pad_last(x: torch.Tensor, width: int) -> torch.Tensor:
    return F.pad(x, (0, width - x.shape[-1])) if width > x.shape[-1] else x


def attention_mean_std(
    query: torch.Tensor, memory: StyleMemory, chunk_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """query (B, N_c, D_k) -> attention-weighted mean and std of V, each (B, N_c, C), float32.
    (The query is raw: a bias column and padding are added here, see StyleMemory.)

    ``chunk_size`` bounds how many query positions are processed at once (lower memory,
    identical result)."""
    if query.device.type == "cuda" and not torch.is_grad_enabled():
        out = blockwise_attention(query, memory, chunk_size)
    else:
        out = fused_attention(query, memory, chunk_size)
    c = memory.channels
    centred_mean = out[..., :c].float()
    second_moment = out[..., c : 2 * c].float()
    std = torch.relu(second_moment - centred_mean * centred_mean).sqrt()
    return centred_mean + memory.value_mean.float(), std


def _full_query(query: torch.Tensor, memory: StyleMemory) -> torch.Tensor:
    """query (B, N_c, D_k) at the keys' width: a 1 in a folded memory's logit-term column,
    zeros in the padding (they change no logit)."""
    width, depth = memory.keys.shape[-1], query.shape[-1]
    if width == depth:
        return query
    full = query.new_zeros((*query.shape[:-1], width))
    full[..., :depth] = query
    if memory.folded:
        full[..., depth] = 1
    return full


def fused_attention(query: torch.Tensor, memory: StyleMemory, chunk_size: int | None) -> torch.Tensor:
    """softmax(Q Kᵀ) [V, V⊙V] through ``scaled_dot_product_attention``: it never holds the
    matrix, in its backward either (training; and the CPU, where it is the fastest)."""
    # The fused CPU kernel also needs a unit stride on the last dimension; a transposed
    # view silently sends it down the matrix-materialising path.
    query = _full_query(query, memory).contiguous()
    # SDPA wants (B, heads, L, D); AdaAttN has a single head.
    keys = memory.keys[:, None]
    values = memory.values[:, None]
    n_queries = query.shape[1]
    step = chunk_size or n_queries
    outputs = []
    for start in range(0, n_queries, step):
        q = query[:, None, start : start + step]
        outputs.append(F.scaled_dot_product_attention(q, keys, values, scale=1.0)[:, 0])
    return torch.cat(outputs, dim=1) if len(outputs) > 1 else outputs[0]


def blockwise_attention(query: torch.Tensor, memory: StyleMemory, chunk_size: int | None) -> torch.Tensor:
    """softmax(Q Kᵀ) [V, V⊙V] as two matrix products per block of queries, each block's
    logits (at most BLOCK_LOGITS) in float32 whatever the precision. On an H100, cuBLAS
    beat CUDA's fused kernel (which has no tensor-core path for these widths) by 1.02–1.16×
    in fp32 and 1.1–1.8× in bf16 (bench/README.md, "GPU"). Inference only: its backward
    would keep every block's matrix."""
    query = _full_query(query, memory)
    keys_t = memory.keys.transpose(1, 2)
    values = memory.values
    n_queries, n_keys = query.shape[1], keys_t.shape[-1]
    step = max(1, min(chunk_size or n_queries, BLOCK_LOGITS // n_keys))
    out = values.new_empty(query.shape[0], n_queries, values.shape[-1])
    for start in range(0, n_queries, step):
        logits = _wide_logits(query[:, start : start + step], keys_t)
        # exp(logits − max) in place and normalised after the second product: no second
        # block-sized buffer for the probabilities.
        logits.sub_(logits.amax(dim=-1, keepdim=True)).exp_()
        total = logits.sum(dim=-1, keepdim=True)
        block = torch.bmm(logits.to(values.dtype), values)
        out[:, start : start + step] = block / total  # divided in float32, stored in out's dtype
    return out


def _wide_logits(query: torch.Tensor, keys_t: torch.Tensor) -> torch.Tensor:
    """Q Kᵀ, in float32 for bf16/fp16 inputs: the product runs on tensor cores, but the
    released logits are unscaled (often in the hundreds) and rounding them to bf16 doubled
    the attention's error in the GPU probe (bench/README.md)."""
    if query.dtype not in (torch.bfloat16, torch.float16):
        return torch.bmm(query, keys_t)
    if query.device.type == "cuda":
        try:
            return torch.bmm(query, keys_t, out_dtype=torch.float32)
        except TypeError:  # torch before bmm's out_dtype
            pass
    return torch.bmm(query, keys_t).float()  # rounded to the low precision first


def make_style_memory(
    keys: torch.Tensor,
    values: torch.Tensor,
    max_positions: int | None = None,
    seed: int | None = None,
    folded: bool = False,
) -> StyleMemory:
    """keys (B, N_s, D_k), values (B, N_s, C) -> StyleMemory.

    ``max_positions`` keeps a random subset of style positions (the release's
    ``max_sample``); ``seed`` makes the subset repeatable and equal to the release's.
    ``folded``: see StyleMemory."""
    index = release_subset(keys.shape[1], max_positions, seed)
    if index is not None:
        index = index.to(keys.device)
        keys, values = keys[:, index], values[:, index]
    value_mean = values.float().mean(dim=1, keepdim=True)
    centred = values - value_mean.to(values.dtype)
    return _memory(keys, torch.cat([centred, centred * centred], dim=-1), value_mean, folded)


def release_subset(n_style: int, max_positions: int | None, seed: int | None) -> torch.Tensor | None:
    """The release's ``max_sample`` rule: above ``max_positions`` style positions, the first
    ``max_positions`` of a permutation drawn on the CPU from ``seed`` (torch's fixed default
    seed without one); None where every position is kept."""
    if max_positions is None or n_style <= max_positions:
        return None
    generator = torch.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    return torch.randperm(n_style, generator=generator)[:max_positions]


def pooling_factor(height: int, width: int, max_positions: int) -> int:
    """Smallest square cell side that leaves at most ``max_positions`` cells (1: none)."""
    factor = 1
    while math.ceil(height / factor) * math.ceil(width / factor) > max_positions:
        factor += 1
    return factor


def pool_cells(x: torch.Tensor, max_positions: int) -> torch.Tensor:
    """(B, C, H, W) -> the means of square cells, at most ``max_positions`` of them (x itself
    when it has no more positions). Edge cells of an odd-sized map average what they hold."""
    factor = pooling_factor(x.shape[-2], x.shape[-1], max_positions)
    return F.avg_pool2d(x, factor, ceil_mode=True) if factor > 1 else x


def pooled_style_memory(
    keys: torch.Tensor, values: torch.Tensor, max_positions: int, folded: bool = False
) -> StyleMemory:
    """keys (B, D_k, H, W) (or already pooled to the cells), values (B, C, H, W) ->
    StyleMemory over at most ``max_positions`` cells: each cell's mean key, and the cell
    means of V − v̄ and (V − v̄)².

    Pooling V⊙V (not squaring pooled V) keeps the spread inside a cell in the attention's
    variance; v̄ is the mean over every position, as in exact attention."""
    value_mean = values.float().mean(dim=(2, 3))[:, None]  # (B, 1, C)
    centred = values - value_mean.to(values.dtype).transpose(1, 2)[..., None]
    moments = pool_cells(torch.cat([centred, centred * centred], dim=1), max_positions)
    keys = pool_cells(keys, max_positions)
    return _memory(keys.flatten(2).transpose(1, 2), moments.flatten(2).transpose(1, 2), value_mean, folded)


def _memory(keys: torch.Tensor, moments: torch.Tensor, value_mean: torch.Tensor, folded: bool) -> StyleMemory:
    """keys (B, N, D_k), moments (B, N, 2C) = [V − v̄, (V − v̄)²] -> padded StyleMemory."""
    key_width = keys.shape[-1]
    width = _common_width(keys.device, key_width, moments.shape[-1])
    return StyleMemory(
        keys=_pad_last(keys, width).contiguous(),
        values=_pad_last(moments, width).contiguous(),
        value_mean=value_mean,
        channels=moments.shape[-1] // 2,
        key_width=key_width,
        folded=folded,
    )


def adaptive_normalize(
    content_feature: torch.Tensor,
    query: torch.Tensor,
    memory: StyleMemory,
    chunk_size: int | None = None,
    content_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Eq. 7: S ⊙ Norm(F_c) + M. content_feature (B, C, H, W), query (B, N_c, D_k).

    ``content_stats`` (mean, std), each (B, C, 1, 1), normalise with another map's
    statistics: a window of a photo is normalised as the whole photo would be."""
    b, c, h, w = content_feature.shape
    mean, std = attention_mean_std(query, memory, chunk_size)
    mean = mean.transpose(1, 2).reshape(b, c, h, w)
    std = std.transpose(1, 2).reshape(b, c, h, w)
    content = content_feature.float()
    content_mean, content_std = content_stats or mean_std(content)
    out = std * ((content - content_mean) / content_std) + mean
    return out.to(content_feature.dtype)


class AdaAttN(nn.Module):
    """One attention level. ``f``, ``g``, ``h`` are the paper's 1×1 convs (names as released).

    At inference f and g only ever meet in the logits, so the style's keys carry both
    (``_logit_keys``) and the content runs no 1×1 conv: one per level and photo less."""

    def __init__(self, value_channels: int, key_channels: int) -> None:
        super().__init__()
        self.f = nn.Conv2d(key_channels, key_channels, kernel_size=1)
        self.g = nn.Conv2d(key_channels, key_channels, kernel_size=1)
        self.h = nn.Conv2d(value_channels, value_channels, kernel_size=1)
        self._key_map_cache: tuple[tuple[object, ...], torch.Tensor] | None = None

    def _logit_keys(self, style_key: torch.Tensor) -> torch.Tensor:
        """style_key (B, D_k, H, W) -> (B, D_k + 1, H, W), keys for queries [c, 1].

        The release's logits are (W_f c + b_f) · (W_g s + b_g). The terms without s are
        the same for every key of a query and cancel in the softmax, which leaves
        c · (W_fᵀ W_g s) + b_f · (W_g s) = [c, 1] · (M s) with M = [W_fᵀ W_g; b_fᵀ W_g]."""
        return F.conv2d(style_key, self._key_map()[..., None, None])

    def _key_map(self) -> torch.Tensor:
        """M of ``_logit_keys``, (D_k + 1, D_k), composed in float32 and kept until the
        weights change: at level 5 composing it (1472³) costs more than one photo's f
        convolution does."""
        params = (self.f.weight, self.f.bias, self.g.weight)
        tag = tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in params if p is not None)
        if self._key_map_cache is None or self._key_map_cache[0] != tag:
            wf, wg = self.f.weight[:, :, 0, 0].float(), self.g.weight[:, :, 0, 0].float()
            bf = self.f.bias.float()  # type: ignore[union-attr]  # (nn.Conv2d's default bias=True)
            key_map = torch.cat([wf.T @ wg, (bf @ wg)[None]]).to(self.g.weight.dtype)
            self._key_map_cache = (tag, key_map)
        return self._key_map_cache[1]

    def style_memory(
        self,
        style_feature: torch.Tensor,
        style_key: torch.Tensor,
        reduction: StyleReduction = "exact",
        max_positions: int | None = None,
        seed: int | None = None,
    ) -> StyleMemory:
        """style_feature (B, C, H, W), style_key (B, D_k, H, W) -> the cached K and [V, V⊙V],
        reduced to at most ``max_positions`` positions as ``reduction`` says. ``seed`` picks
        the "release" subset: the authors' RELEASE_SEED without one.

        Folded (f in the keys) at inference. Training keeps the release's graph, in which
        every parameter gets a gradient, as DistributedDataParallel requires (g's bias
        cancels in the softmax and would get none)."""
        folded = not torch.is_grad_enabled()
        keys_of = self._logit_keys if folded else self.g
        if reduction == "pooled" and max_positions is not None:
            # Cell means commute with the 1×1 maps: pooling the key first maps a quarter as much.
            keys = keys_of(pool_cells(style_key, max_positions))
            return pooled_style_memory(keys, self.h(style_feature), max_positions, folded)
        positions = style_key.shape[-2] * style_key.shape[-1]
        subset_seed = RELEASE_SEED if seed is None else seed
        index = release_subset(positions, max_positions, subset_seed) if reduction == "release" else None
        if index is not None:
            # The 1×1 maps act per position, so the subset is taken first: a quarter of the
            # work at a 512-px style's relu3_1. (B, C, n, 1) keeps them convolutions.
            index = index.to(style_key.device)
            style_key = style_key.flatten(2).index_select(2, index)[..., None]
            style_feature = style_feature.flatten(2).index_select(2, index)[..., None]
        keys, values = keys_of(style_key), self.h(style_feature)
        return make_style_memory(keys.flatten(2).transpose(1, 2), values.flatten(2).transpose(1, 2), folded=folded)

    def forward(
        self,
        content_feature: torch.Tensor,
        content_key: torch.Tensor,
        memory: StyleMemory,
        chunk_size: int | None = None,
        content_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """content_feature (B, C, H, W), content_key (B, D_k, H, W) -> (B, C, H, W).
        ``content_stats``: as in ``adaptive_normalize`` (for a window of a larger map)."""
        key = content_key if memory.folded else self.f(content_key)
        query = key.flatten(2).transpose(1, 2)  # (B, N_c, D_k)
        return adaptive_normalize(content_feature, query, memory, chunk_size, content_stats)
