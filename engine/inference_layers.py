"""VGG's and the decoder's layer stacks at CPU inference, with fewer passes over memory.

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
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MaxPool2x2(nn.MaxPool2d):
    """VGG's 2×2, stride-2 max pool; at CPU inference on even-sized maps (the Stylizer pads
    its input to a multiple of STRIDE) through ``max_pool_2x2``."""

    def __init__(self, ceil_mode: bool) -> None:
        super().__init__(2, 2, ceil_mode=ceil_mode)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        wants_grad = torch.is_grad_enabled() and input.requires_grad
        odd = input.shape[-2] % 2 or input.shape[-1] % 2
        if input.device.type != "cpu" or wants_grad or odd:
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


def _inference_on_cpu(*maps: torch.Tensor) -> bool:
    return all(x.device.type == "cpu" and not (torch.is_grad_enabled() and x.requires_grad) for x in maps)


def padded_output(layer: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``ReflectionPad2d(1)(layer(x))`` in one pass, or None where that is not done: off the
    CPU, when gradients are wanted, or for a layer other than ReLU, MaxPool2x2, a ×2
    nearest Upsample or an UpsampledJoin."""
    skip = layer.skip if isinstance(layer, UpsampledJoin) else None
    if not _inference_on_cpu(x) or (skip is not None and not _inference_on_cpu(skip)):
        return None
    writer = _writer(layer, x)
    if writer is None:
        return None
    channels, (height, width) = x.shape[1], x.shape[-2:]
    if isinstance(layer, (nn.Upsample, UpsampledJoin)):
        height, width = 2 * height, 2 * width
        channels += 0 if skip is None else skip.shape[1]
    elif isinstance(layer, MaxPool2x2):
        height, width = height // 2, width // 2
    if height < 2 or width < 2:
        return None  # no reflection of a 1-pixel side: torch's pad says so
    padded = _empty_padded(x, channels, height, width)
    writer(padded[..., 1:-1, 1:-1])
    return reflect_border(padded)


def _writer(layer: nn.Module, x: torch.Tensor) -> Callable[[torch.Tensor], object] | None:
    if isinstance(layer, nn.ReLU):
        return lambda inside: torch.clamp_min(x, 0, out=inside)
    if isinstance(layer, MaxPool2x2) and x.shape[-2] % 2 == 0 and x.shape[-1] % 2 == 0:
        return lambda inside: max_pool_2x2(x, out=inside)
    if isinstance(layer, nn.Upsample) and layer.mode == "nearest" and layer.scale_factor in (2, 2.0, (2.0, 2.0)):
        return lambda inside: upsample_into(x, inside)
    if isinstance(layer, UpsampledJoin):

        def join(inside: torch.Tensor) -> None:
            upsample_into(x, inside[:, : x.shape[1]])
            inside[:, x.shape[1] :] = layer.skip

        return join
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
