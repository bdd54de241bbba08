"""VGG's and the decoder's layer stacks at inference, with fewer passes over memory.

VGG's max pools take row-pair then column-pair maxima (torch's CPU pool also computes the
indices only a backward pass needs; 2.5–7× slower on the encoder's NCHW maps).

Every 3×3 convolution of both reads a map reflection-padded by one pixel, and torch pads in
a separate pass over the whole map. On the development CPU these layers are memory-bound
past the caches: at 1024² padding took 1.1 s of a 26-s stylisation (bench/README.md). At CPU
inference the layer before a pad (a ReLU, a 2×2 max pool, a ×2 nearest upsampling, or the
decoder's concatenation with relu3_1) writes its result straight into the inside of the
padded map, and only the one-pixel border is copied afterwards. The values are the same.

A feature tapped just before a pad (relu1_1 … relu4_1) is then the inside of the padded
map: a strided view, which everything that reads features accepts.

On a CUDA GPU the same fusion saves a pass too, but costs four more kernel launches (the
border copies), and below about a 1024² photo a render there is bound by launches, not by
memory: on an H200, fusing every pad made a 512² render 8–18 % slower and a 4096² one 3–10 %
faster (bench/README.md). So on CUDA only maps of at least ``GPU_FUSE_MIN_VALUES`` are fused.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import torch
import torch.nn.functional as F
from torch import nn

# 2**25 values (128 MB in fp32): at about 4 TB/s the pass saved outlasts the four launches added.
GPU_FUSE_MIN_VALUES = 1 << 25


class MaxPool2x2(nn.MaxPool2d):
    """VGG's 2×2, stride-2 max pool; at CPU inference on even-sized maps (the Stylizer pads
    its input to a multiple of STRIDE) through ``max_pool_2x2``."""

    def __init__(self, ceil_mode: bool) -> None:
        super().__init__(2, 2, ceil_mode=ceil_mode)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        odd = input.shape[-2] % 2 or input.shape[-1] % 2
        if odd or not _inference_on_cpu(input):
            return super().forward(input)
        return max_pool_2x2(input)


def max_pool_2x2(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """2×2, stride-2 max pool of an even-sized map: the same values as torch's."""
    rows = torch.maximum(x[..., ::2, :], x[..., 1::2, :])
    return torch.maximum(rows[..., ::2], rows[..., 1::2], out=out)


class UpsampledJoin(nn.Module):
    """``cat([Upsample(2)(x), skip], dim=1)``: the decoder's join with relu3_1, as a layer
    so that its pad is written in the same pass and nothing outside the stack holds the
    joined map (at 2048² it is 2.2 GB)."""

    def __init__(self, skip: torch.Tensor) -> None:
        super().__init__()
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.interpolate(x, scale_factor=2.0, mode="nearest"), self.skip], dim=1)


def _no_gradient_wanted(*maps: torch.Tensor) -> bool:
    return not (torch.is_grad_enabled() and any(x.requires_grad for x in maps))


def _inference_on_cpu(*maps: torch.Tensor) -> bool:
    return all(x.device.type == "cpu" for x in maps) and _no_gradient_wanted(*maps)


def _worth_fusing(x: torch.Tensor, values: int) -> bool:
    """Whether a pad of a map of ``values`` values is written by the layer before it."""
    if x.device.type == "cpu":
        return True
    return x.device.type == "cuda" and values >= GPU_FUSE_MIN_VALUES


def padded_output(layer: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``ReflectionPad2d(1)(layer(x))`` in one pass, or None where that is not done: when
    gradients are wanted, on a GPU for a map under ``GPU_FUSE_MIN_VALUES`` (and on other
    devices), or for a layer other than ReLU, MaxPool2x2, a ×2 nearest Upsample or an
    UpsampledJoin."""
    fused = _fused_writer(layer, x) if _no_gradient_wanted(x) else None
    if fused is None:
        return None
    (channels, height, width), write = fused
    if height < 2 or width < 2:
        return None  # no reflection of a 1-pixel side: torch's pad says so
    if not _worth_fusing(x, x.shape[0] * channels * (height + 2) * (width + 2)):
        return None
    padded = _empty_padded(x, channels, height, width)
    write(padded[..., 1:-1, 1:-1])
    return reflect_border(padded)


def _fused_writer(
    layer: nn.Module, x: torch.Tensor
) -> tuple[tuple[int, int, int], Callable[[torch.Tensor], object]] | None:
    """For a layer ``padded_output`` can fuse: the (channels, height, width) of ``layer(x)``
    and a function that writes ``layer(x)`` into a tensor of that shape."""
    channels, height, width = x.shape[-3:]
    if isinstance(layer, nn.ReLU):
        return (channels, height, width), lambda inside: torch.clamp_min(x, 0, out=inside)
    if isinstance(layer, MaxPool2x2) and height % 2 == 0 and width % 2 == 0:
        return (channels, height // 2, width // 2), lambda inside: max_pool_2x2(x, out=inside)
    if isinstance(layer, nn.Upsample) and layer.mode == "nearest" and layer.scale_factor in (2, 2.0, (2.0, 2.0)):
        return (channels, 2 * height, 2 * width), lambda inside: upsample_into(x, inside)
    if isinstance(layer, UpsampledJoin) and _no_gradient_wanted(layer.skip):
        skip = layer.skip

        def join(inside: torch.Tensor) -> None:
            upsample_into(x, inside[:, :channels])
            inside[:, channels:] = skip

        return (channels + skip.shape[1], 2 * height, 2 * width), join
    return None


def upsample_into(x: torch.Tensor, inside: torch.Tensor) -> None:
    """Nearest ×2 upsampling of ``x`` written into ``inside`` (twice x's height and width)."""
    inside[..., ::2, ::2] = x
    inside[..., ::2, 1::2] = x
    inside[..., 1::2, :] = inside[..., ::2, :]


def _empty_padded(like: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor:
    """An uninitialised (B, channels, height + 2, width + 2) map in ``like``'s layout. (Laying
    it out for the next convolution instead, NCHW for NNPACK, measured no faster: the writes
    that transpose cost what the convolution's own copy did.)"""
    channels_last = like.is_contiguous(memory_format=torch.channels_last) and not like.is_contiguous()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    shape = (like.shape[0], channels, height + 2, width + 2)
    return torch.empty(shape, dtype=like.dtype, device=like.device, memory_format=memory_format)


def reflect_border(padded: torch.Tensor) -> torch.Tensor:
    """Fill the one-pixel border of ``padded`` from its inside, as ReflectionPad2d(1) would."""
    padded[..., 0, 1:-1] = padded[..., 2, 1:-1]
    padded[..., -1, 1:-1] = padded[..., -3, 1:-1]
    padded[..., :, 0] = padded[..., :, 2]
    padded[..., :, -1] = padded[..., :, -3]
    return padded


def is_pad(layer: nn.Module) -> bool:
    return isinstance(layer, nn.ReflectionPad2d) and tuple(layer.padding) == (1, 1, 1, 1)


def run_layers(
    layers: Sequence[nn.Module], x: torch.Tensor, taps: Collection[int] = ()
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run ``layers`` on ``x``; returns the output and, for each n in ``taps`` (ascending),
    the map after the first n layers. A layer followed by a pad writes into the padded map
    (``padded_output``); a tap between the two is the inside of it."""
    tapped: list[torch.Tensor] = []
    index = 0
    while index < len(layers):
        layer = layers[index]
        fused = None
        if index + 1 < len(layers) and is_pad(layers[index + 1]):
            fused = padded_output(layer, x)
        if fused is None:
            x = layer(x)
            index += 1
        else:
            x = fused
            index += 2
            if index - 1 in taps:
                tapped.append(x[..., 1:-1, 1:-1])
        if index in taps:
            tapped.append(x)
    return x, tapped
