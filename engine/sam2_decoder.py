"""SAM 2's prompt decoder with the photo's share of the work done once per photo.

transformers' ``Sam2Model.forward(image_embeddings=...)`` redoes, for every prompt, work
that depends on the photo alone: the image-wide positional encoding, the image tokens plus
the no-mask embedding, and in the first two-way block the projections of the image tokens
(the keys and values the prompt tokens attend to, and the queries with which the image
attends back: the image tokens are not changed before that block's last step). With 64×64
image tokens of width 256 those are three of the ten large matrix products of a decoder
pass and half its additions.

The mask upscaling (two 2×2, stride-2 transposed convolutions, each followed by a
high-resolution feature map, a norm and GELU) runs as two matrix products in a blocked
layout: every image token becomes its 2×2 and then 4×4 block of output pixels, channels
last, and the photo's feature maps are stored in that layout once. Nothing is shuffled
until the final masks (a few channels). On a CPU the library's way spends more time in
layout conversions around the convolutions than in the convolutions.

``PhotoPrompts.prepare`` does that work once per photo; ``decode`` then runs the rest with
transformers' own layers (their weights, projections, norms and heads), so the result is
the library's forward up to float rounding (``tests/test_sam2_decoder.py`` compares them).
Only the released configuration is handled: no mask prompts, no target embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from torch import nn
    from transformers import Sam2Model
    from transformers.models.sam2.modeling_sam2 import Sam2Attention, Sam2TwoWayAttentionBlock

_FEW_KEYS = 64  # up to this many keys (prompt tokens), heads are multiplied block-diagonally


@dataclass(frozen=True)
class PreparedPhoto:
    """What every prompt on one photo shares: (1, N, C) image tokens (with the no-mask
    embedding) and their positional encoding, the first block's image-side projections,
    and the two high-resolution feature maps in the upscaling's blocked layout:
    (h, w, 2, 2, c) and (h, w, 2, 2, 2, 2, c) for an (h, w) grid of image tokens."""

    tokens: torch.Tensor
    positions: torch.Tensor
    first_block: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    high_resolution: tuple[torch.Tensor, torch.Tensor]
    grid: tuple[int, int]


class PhotoPrompts:
    """Decodes point and box prompts against a prepared photo with ``model``'s mask decoder."""

    def __init__(self, model: Sam2Model) -> None:
        self.model = model
        self.decoder = model.mask_decoder
        self.transformer = model.mask_decoder.transformer
        self.blocks = cast("list[Sam2TwoWayAttentionBlock]", list(self.transformer.layers))
        with torch.no_grad():
            self._upscale = (_as_matrix(self.decoder.upscale_conv1), _as_matrix(self.decoder.upscale_conv2))
            # The convolutions' biases, added with the photo's feature maps (``prepare``).
            self._biases = (_bias(self.decoder.upscale_conv2), _bias(self.decoder.upscale_conv1))

    @torch.inference_mode()
    def prepare(self, embeddings: list[torch.Tensor]) -> PreparedPhoto:
        """``embeddings``: ``Sam2Model.get_image_embeddings`` of one photo (high-resolution
        maps first, the 64×64 image embedding last)."""
        image = embeddings[-1]
        height, width = image.shape[-2:]
        no_mask = self.model.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
        tokens = (image + no_mask).flatten(2).transpose(1, 2).contiguous()
        positions = self.model.get_image_wide_positional_embeddings().flatten(2).transpose(1, 2).contiguous()
        h, w = int(height), int(width)
        fine, finer = embeddings[0][0], embeddings[1][0]  # (c, 4h, 4w), (c, 2h, 2w)
        # Row 4i + 2a + b of the finest map is token row i, first block row a, second b.
        fine = fine.view(-1, h, 2, 2, w, 2, 2).permute(1, 4, 2, 5, 3, 6, 0)
        finer = finer.view(-1, h, 2, w, 2).permute(1, 3, 2, 4, 0)
        # Contiguous, as the products' outputs they are added to are.
        fine = (fine + self._biases[0]).contiguous()
        finer = (finer + self._biases[1]).contiguous()
        return PreparedPhoto(
            tokens=tokens,
            positions=positions,
            first_block=self._image_side(self.blocks[0], tokens, positions),
            high_resolution=(fine, finer),
            grid=(h, w),
        )

    @torch.inference_mode()
    def decode(
        self, photo: PreparedPhoto, points: torch.Tensor, labels: torch.Tensor, boxes: torch.Tensor | None,
        multimask: bool,
    ) -> torch.Tensor:
        """Points (1, P, k, 2) with labels (1, P, k) and optional boxes (1, P, 4), in the
        model's input square -> (P, h, w) logits, one mask per prompt: with ``multimask``
        the candidate SAM rates best (as its predictor picks for a single click; only that
        one is made), else ``Sam2Model.forward``'s single mask (its stability fallback
        included)."""
        sparse, _ = self.model.prompt_encoder(
            input_points=points, input_labels=labels, input_boxes=boxes, input_masks=None
        )
        prompts = sparse[0]  # (P, S, C)
        count = prompts.shape[0]
        decoder = self.decoder
        output_tokens = torch.cat(
            [decoder.obj_score_token.weight, decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0
        )
        point_tokens = torch.cat([output_tokens.expand(count, -1, -1), prompts], dim=1)
        queries, keys = self._two_way(photo, point_tokens)

        scores = decoder.iou_prediction_head(queries[:, 1])  # (P, masks)
        hyper = torch.stack(
            [mlp(queries[:, 2 + i]) for i, mlp in enumerate(decoder.output_hypernetworks_mlps)], dim=1
        )  # (P, masks, c)
        if multimask:  # candidates 1..3; 0 is the single-mask output
            best = scores[:, 1:].argmax(dim=1) + 1
            return self._masks(photo, keys, hyper[torch.arange(count), best][:, None])[:, 0]
        masks = self._masks(photo, keys, hyper)
        if decoder.dynamic_multimask_via_stability:
            masks, _ = decoder._dynamic_multimask_via_stability(masks[None], scores[None])
            return masks[0, :, 0]
        return masks[:, 0]

    def _masks(self, photo: PreparedPhoto, keys: torch.Tensor, hyper: torch.Tensor) -> torch.Tensor:
        """(P, masks, 4h, 4w) logits: the upscaled image tokens times each mask's weights."""
        count, mask_count = hyper.shape[:2]
        pixels = self._upscaled(photo, keys)  # (P, h, w, 2, 2, 2, 2, c)
        h, w = photo.grid
        masks = (pixels.reshape(count, -1, pixels.shape[-1]) @ hyper.transpose(1, 2)).view(
            count, h, w, 2, 2, 2, 2, mask_count
        )
        # (P, i, j, a, a', b, b', masks) -> (P, masks, 4i + 2a + b, 4j + 2a' + b')
        return masks.permute(0, 7, 1, 3, 5, 2, 4, 6).reshape(count, mask_count, 4 * h, 4 * w)

    def _two_way(self, photo: PreparedPhoto, point_tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sam2TwoWayTransformer.forward on (P, T, C) prompt tokens and the photo's
        (1, N, C) tokens; the first block takes its image-side projections from ``photo``."""
        count = point_tokens.shape[0]
        positions = photo.positions
        queries, keys = point_tokens, photo.tokens
        for index, block in enumerate(self.blocks):
            if block.skip_first_layer_pe:
                queries = block.self_attn(query=queries[None], key=queries[None], value=queries[None])[0][0]
            else:
                query = queries + point_tokens
                queries = queries + block.self_attn(query=query[None], key=query[None], value=queries[None])[0][0]
            queries = block.layer_norm1(queries)

            image_keys, image_values, image_queries = (
                photo.first_block if index == 0 else self._image_side(block, keys, positions)
            )
            t2i = block.cross_attn_token_to_image
            queries = block.layer_norm2(
                queries + _attend(t2i, t2i.q_proj(queries + point_tokens), image_keys, image_values, count)
            )
            queries = block.layer_norm3(queries + block.mlp(queries))

            i2t = block.cross_attn_image_to_token
            query = queries + point_tokens
            keys = block.layer_norm4(keys + _attend(i2t, image_queries, i2t.k_proj(query), i2t.v_proj(queries), count))

        final = self.transformer.final_attn_token_to_image
        key = keys + positions
        attended = _attend(final, final.q_proj(queries + point_tokens), final.k_proj(key), final.v_proj(keys), count)
        return self.transformer.layer_norm_final_attn(queries + attended), keys

    def _upscaled(self, photo: PreparedPhoto, keys: torch.Tensor) -> torch.Tensor:
        """The decoder's upscaling of (P, N, C) image tokens, in the blocked layout: each
        transposed convolution maps a pixel to its 2×2 block by one matrix product."""
        decoder, first, second = self.decoder, *self._upscale
        fine, finer = photo.high_resolution
        count, (h, w) = keys.shape[0], photo.grid
        norm = decoder.upscale_layer_norm
        upscaled = (keys.reshape(-1, keys.shape[-1]) @ first).view(count, h, w, 2, 2, -1)
        upscaled += finer  # the photo's map with the convolution's bias already added
        upscaled = decoder.activation(F.layer_norm(upscaled, norm.normalized_shape, norm.weight, norm.bias, norm.eps))
        upscaled = (upscaled.reshape(-1, upscaled.shape[-1]) @ second).view(count, h, w, 2, 2, 2, 2, -1)
        upscaled += fine
        return decoder.activation(upscaled)

    @staticmethod
    def _image_side(
        block: Sam2TwoWayAttentionBlock, keys: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A block's projections of the image tokens: the keys and values the prompt tokens
        attend to, and the queries of the image attending back."""
        key = keys + positions
        t2i, i2t = block.cross_attn_token_to_image, block.cross_attn_image_to_token
        return t2i.k_proj(key), t2i.v_proj(keys), i2t.q_proj(key)


def _attend(attention: Sam2Attention, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, count: int) -> torch.Tensor:
    """Sam2Attention.forward after its input projections: heads, softmax attention and the
    output projection. Inputs (1 or P, L, internal width); the photo's side (batch 1)
    is broadcast to the P prompts."""
    heads = attention.num_attention_heads
    if key.shape[1] <= _FEW_KEYS:
        return attention.o_proj(_attend_few_keys(query, key, value, heads, attention.scaling, count))

    def split(x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], x.shape[1], heads, -1).transpose(1, 2).expand(count, -1, -1, -1)

    # A handful of prompt tokens query the image: the weights are small (P × heads × T × N),
    # and two products beat the fused kernel, whose per-block overhead dominates here.
    weights = torch.softmax(split(query) @ split(key).transpose(-1, -2) * attention.scaling, dim=-1)
    out = weights @ split(value)
    return attention.o_proj(out.transpose(1, 2).reshape(count, out.shape[2], -1))


def _attend_few_keys(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, heads: int, scaling: float, count: int
) -> torch.Tensor:
    """Every image token attending to a few prompt tokens, all heads in two products: keys and
    values are laid out block-diagonally by head, so (N, heads·d) queries give (N, heads·T)
    logits and the weighted values come out with the heads side by side, as ``o_proj`` takes
    them. Per-head products of a depth of 16 and a width of 8 run far below a CPU's speed."""
    eye = torch.eye(heads, dtype=key.dtype, device=key.device)

    def block_diagonal(x: torch.Tensor) -> torch.Tensor:  # (P, T, heads·d) -> (P, heads·d, heads·T)
        p, t = x.shape[:2]
        by_head = x.view(p, t, heads, -1).permute(0, 2, 3, 1)  # (P, heads, d, T)
        return torch.einsum("phdt,hg->phdgt", by_head, eye).reshape(p, -1, heads * t)

    tokens = key.shape[1]
    logits = query.expand(count, -1, -1) @ block_diagonal(key)  # (P, N, heads·T)
    weights = torch.softmax(logits.view(count, -1, heads, tokens) * scaling, dim=-1)
    return weights.view(count, -1, heads * tokens) @ block_diagonal(value).transpose(1, 2)


def _as_matrix(convolution: nn.ConvTranspose2d) -> torch.Tensor:
    """A 2×2, stride-2 transposed convolution's weights as an (in, 2·2·out) matrix: an input
    pixel's product gives its output block, ordered (row, column, channel). The bias is
    added with the photo's feature map (``prepare``)."""
    weight = convolution.weight  # (in, out, 2, 2)
    return weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1).contiguous()


def _bias(convolution: nn.ConvTranspose2d) -> torch.Tensor:
    if convolution.bias is None:  # SAM 2's upscaling convolutions have biases; a zero if not
        return torch.zeros(convolution.out_channels, dtype=convolution.weight.dtype, device=convolution.weight.device)
    return convolution.bias.detach()
