"""Wide 3×3 convolutions on the CPU through NNPACK's Winograd kernels, at inference.

oneDNN's direct convolution (what torch picks for one image on a CPU) runs VGG's and the
decoder's 3×3 layers at about the machine's matmul rate. Winograd's F(6×6, 3×3) does
2.25× fewer multiplies, and NNPACK (built into torch's CPU wheels) ran the 128- to
512-channel layers 1.46–2.13× faster on the 2-core AVX2 development machine
(bench/README.md, "With Winograd convolutions"). torch only uses NNPACK itself for
batches of 16 or more, so Styler calls it directly for single images.

Narrow layers (fewer than 128 output channels: VGG's first block, the decoder's last
three) and small maps (under MIN_POSITIONS) stay on oneDNN, where Winograd's transforms
cost more than they save. The rounding
differs from a direct convolution by ~1.5e-5 relative per layer: the same kind of
difference as cuDNN's own Winograd kernels on a GPU, far below an 8-bit level at the end.

Training never takes this path: with gradients wanted the ordinary convolution runs.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

# Below this many output channels oneDNN was as fast or faster (measured, see above).
MIN_OUT_CHANNELS = 128
# NNPACK transforms the whole kernel on every call (16 M values for 512 → 512), which small
# maps do not repay: oneDNN was faster up to 32² positions, NNPACK from 48² (every width;
# bench/README.md). Below this the layer convolves directly (the quick preview's 64-px pass
# took 5× longer through NNPACK).
MIN_POSITIONS = 40 * 40
# NNPACK sizes its workspace for the whole map, about 1.8 × (input + output) values (1.8 GB
# for a 128-channel 1024² map), and torch keeps that buffer for the life of the process.
# Past this many input plus output values a layer runs in strips of rows, so the workspace
# stays near what a 1024² photo's widest layer needs (67 M values, 0.46 GB); photos up to
# that size never take strips.
MAX_PASS_VALUES = 80 << 20


class WinogradConv2d(nn.Conv2d):
    """An ``nn.Conv2d`` (same parameters, same state-dict names) that runs through NNPACK
    when it can: float32 on the CPU, no gradients wanted. Anything else runs as usual."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        wants_grad = torch.is_grad_enabled() and (input.requires_grad or self.weight.requires_grad)
        small = input.shape[-2] * input.shape[-1] < MIN_POSITIONS
        if input.device.type != "cpu" or input.dtype != torch.float32 or wants_grad or small:
            return super().forward(input)
        # NNPACK reads plain NCHW memory; a channels-last input or weight is laid out again.
        # The weight stays in the model's layout for the direct path: small maps take that
        # path, and re-laying out a kernel costs ~1 ms against a wide layer's 60+ ms here.
        padding = cast(tuple[int, int], self.padding)  # a tuple: _eligible refused the strings
        x, weight = input.contiguous(), self.weight.contiguous()
        if (x.shape[1] + self.out_channels) * x.shape[-2] * x.shape[-1] <= MAX_PASS_VALUES:
            return torch._nnpack_spatial_convolution(x, weight, self.bias, padding)
        return self._in_strips(x, weight, padding)

    def _in_strips(self, x: torch.Tensor, weight: torch.Tensor, padding: tuple[int, int]) -> torch.Tensor:
        """The convolution in horizontal strips of output rows; each strip reads its rows plus
        the kernel's two-row reach, so the strips join into the whole-map result."""
        if padding != (0, 0):
            x = F.pad(x, (padding[1], padding[1], padding[0], padding[0]))
        height, width = x.shape[-2] - 2, x.shape[-1] - 2
        rows = max(1, MAX_PASS_VALUES // ((x.shape[1] + self.out_channels) * x.shape[-1]))
        out = x.new_empty((x.shape[0], self.out_channels, height, width))
        for top in range(0, height, rows):
            bottom = min(height, top + rows)
            strip = x[..., top : bottom + 2, :].contiguous()
            out[..., top:bottom, :] = torch._nnpack_spatial_convolution(strip, weight, self.bias, (0, 0))
        return out


def _eligible(conv: nn.Conv2d) -> bool:
    return (
        type(conv) is nn.Conv2d  # not a subclass with a forward of its own
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and isinstance(conv.padding, tuple)  # not "same"/"valid" strings
        and conv.out_channels >= MIN_OUT_CHANNELS
    )


def winograd_available() -> bool:
    """Whether this torch build has NNPACK and this CPU can run it (the call also
    initialises NNPACK, which must happen before its first convolution)."""
    return torch._nnpack_available()


def use_winograd(model: nn.Module, enabled: bool = True) -> int:
    """Switch ``model``'s wide 3×3 convolutions to NNPACK for CPU inference (or, with
    ``enabled=False``, back to direct convolutions), in place; returns how many run through
    NNPACK now (0 where it is unavailable)."""
    enabled = enabled and winograd_available()
    switched = 0
    for module in model.modules():
        if not isinstance(module, nn.Conv2d):
            continue
        # Changing the class keeps the very same parameters, buffers and hooks.
        if enabled and _eligible(module):
            module.__class__ = WinogradConv2d
        elif not enabled and isinstance(module, WinogradConv2d):
            cast(nn.Module, module).__class__ = nn.Conv2d
        if type(module) is WinogradConv2d:
            switched += 1
    return switched
