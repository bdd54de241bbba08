"""Image sizes the network can take: padding to its stride and cropping the result back,
scaling a style to its working size, and the memory an encoding needs (to refuse hopeless
sizes before trying)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from engine.compose import Box
from engine.encoder import STRIDE

# Smallest padded side: relu5_1 must have at least 2×2 positions for an unbiased variance.
MIN_SIDE = 2 * STRIDE

# Padding to the network's stride (≤ 15 px) plus the encoder's 1-px reflection pad.
PAD_MARGIN = 18


def encoder_bytes(h: int, w: int, dtype: torch.dtype, in_strips: bool = False) -> int:
    """About the least memory encoding an H×W image takes: the relu1 layers' input and
    output (64 channels each; a strip's only, ``in_strips``) plus the kept features of
    every level (~122 channels at full size in all). The render needs more; this bound
    only refuses the hopeless."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    shallow = 0 if in_strips else 2 * 64 * h * w
    return (shallow + 122 * h * w) * itemsize


def pad_to_stride(image: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """(B, 3, H, W) -> padded so H and W are multiples of STRIDE (at least MIN_SIDE), and the
    original (H, W) to crop back to. Reflection keeps the border statistics natural."""
    h, w = image.shape[-2:]
    target_h = max(MIN_SIDE, math.ceil(h / STRIDE) * STRIDE)
    target_w = max(MIN_SIDE, math.ceil(w / STRIDE) * STRIDE)
    pad_h, pad_w = target_h - h, target_w - w
    if pad_h == 0 and pad_w == 0:
        return image, (h, w)
    # Reflection cannot pad by more than the side minus one; tiny images replicate instead.
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(image, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def longer_side_size(h: int, w: int, size: int | None) -> tuple[int, int]:
    """(H, W) scaled so the longer side is ``size`` (unchanged for None or 0)."""
    if not size or max(h, w) == size:
        return h, w
    scale = size / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resize_longer_side(image: torch.Tensor, size: int | None) -> torch.Tensor:
    h, w = image.shape[-2:]
    new = longer_side_size(h, w, size)
    if new == (h, w):
        return image
    return F.interpolate(image, size=new, mode="bilinear", antialias=True, align_corners=False)


def pixels_on_host(image: torch.Tensor, size: tuple[int, int], work: Box | None) -> np.ndarray:
    """The decoded (1, 3, h, w) tensor as (h, w, 3) float32 pixels inside the photo: the
    padding cut off (``work``, a box rendered alone, may reach into it at the bottom and
    right)."""
    h, w = size
    if work is not None:
        h, w = min(h, work[2]) - work[0], min(w, work[3]) - work[1]
    pixels = image[0, :, :h, :w].float().clamp(0.0, 1.0).permute(1, 2, 0)
    if pixels.device.type == "cpu":
        return pixels.numpy()
    # Off a GPU: laid out as (h, w, 3) there, then copied into an array numpy allocates (it
    # asks Linux for huge pages). Into a fresh torch tensor the copy page-faulted its way
    # at 1.7 GB/s on an H100 host: 118 ms of a 4096² render.
    host = np.empty((h, w, 3), dtype=np.float32)
    torch.from_numpy(host).copy_(pixels.contiguous())
    return host
