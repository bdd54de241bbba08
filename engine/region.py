"""Stylise only what a mask needs: attention and decoding over the mask's box, not the photo.

Cropping the photo and stylising the crop would not do: AdaAttN normalises content features
with statistics over its whole input, so a crop comes out differently from the same pixels
inside the photo. Instead the encoder runs on the whole photo (linear and cached per
content image, so the statistics are the photo's), and only the positions inside the box —
plus a halo wider than the decoder's receptive field — are gathered for attention, the
costly N_content × N_style step, and decoded. Inside the box the result equals a whole-image
render up to float rounding (tests/test_region.py). No attention mask is involved.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engine.attention import StyleMemory, adaptive_normalize, mean_std
from engine.compose import Box, preserve_color as apply_preserve_color
from engine.encoder import STRIDE
from engine.network import Features, StyleNet
from engine.stylizer import (
    LEAN_ATTENTION_CHUNK,
    LEAN_DECODER_TILE,
    CancelCallback,
    ProgressCallback,
    Stylizer,
    check_cancel,
    decode_tiled,
)

# Context decoded around the box and then thrown away: 8 relu4_1 cells, twice the
# decoder's receptive field (as in the stylizer's tiled decoder).
HALO = 64
# Above this share of the photo, gathering saves too little; the whole photo is rendered.
MAX_BOX_SHARE = 0.6


def region_box(mask: np.ndarray) -> Box | None:
    """Bounding box (top, left, bottom, right) of the mask's non-zero pixels, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _outward(box: Box, limit: tuple[int, int]) -> Box:
    """``box`` grown to the STRIDE grid, within (0, 0, *limit)."""
    top, left, bottom, right = box
    return (
        top // STRIDE * STRIDE,
        left // STRIDE * STRIDE,
        min(limit[0], math.ceil(bottom / STRIDE) * STRIDE),
        min(limit[1], math.ceil(right / STRIDE) * STRIDE),
    )


def render_region(
    stylizer: Stylizer,
    rgb: np.ndarray,
    mask: np.ndarray,
    strength: float = 1.0,
    preserve_color: bool = False,
    crop: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> tuple[np.ndarray, Box]:
    """Stylise what ``mask`` needs of ``rgb`` -> (stylised pixels, the box they cover).
    ``crop=False``, an empty mask or a large region stylise the whole photo."""
    height, width = mask.shape
    stylizer.set_content(rgb)  # the encoder always sees the whole photo: its statistics
    tight = region_box(mask) if crop else None
    if tight is not None:
        features, _, _ = stylizer.cached_inputs()
        level = stylizer.model.levels[0]
        padded = tuple(n * level_stride(level) for n in features.feature[level].shape[-2:])
        box = _outward(tight, (height, width))
        work = _outward((box[0] - HALO, box[1] - HALO, box[2] + HALO, box[3] + HALO), padded)
        work = (max(0, work[0]), max(0, work[1]), work[2], work[3])
        if (work[2] - work[0]) * (work[3] - work[1]) <= MAX_BOX_SHARE * padded[0] * padded[1]:
            stylized = _render_box(stylizer, box, work, strength, progress, cancel)
            if preserve_color:
                top, left, bottom, right = box
                stylized = apply_preserve_color(stylized, rgb[top:bottom, left:right])
            return stylized, box
    stylized = stylizer.render(strength=strength, preserve_color=preserve_color, progress=progress, cancel=cancel)
    return stylized, (0, 0, height, width)


def _render_box(
    stylizer: Stylizer,
    box: Box,
    work: Box,
    strength: float,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
) -> np.ndarray:
    """Attention and decoder over ``work`` (box + halo, on the STRIDE grid); returns the
    pixels of ``box`` as (h, w, 3) float32 in [0, 1]."""
    features, size, memories = stylizer.cached_inputs()
    report = progress or (lambda fraction, message: None)

    def attempt() -> torch.Tensor:
        lean = stylizer.lean  # the stylizer turns it on after an out-of-memory error
        attended = {}
        for i, level in enumerate(stylizer.model.levels):
            check_cancel(cancel)
            report(0.1 + 0.7 * i / len(stylizer.model.levels), f"attention at relu{level}_1")
            chunk = LEAN_ATTENTION_CHUNK if lean else None
            out = attend_window(stylizer.model, features, memories, level, work, chunk)
            if strength < 1.0:
                content = _window(features.feature[level], work, level_stride(level))
                out = torch.lerp(content, out, strength)
            attended[level] = out
        check_cancel(cancel)
        report(0.8, "decoding")
        if lean:
            return decode_tiled(stylizer.model, attended, LEAN_DECODER_TILE, cancel)
        return stylizer.model.decode(attended)

    image = stylizer.guarded(attempt)
    top, left, bottom, right = box
    oy, ox = top - work[0], left - work[1]
    h, w = min(bottom, size[0]) - top, min(right, size[1]) - left
    pixels = image[0, :, oy : oy + h, ox : ox + w].float().clamp(0.0, 1.0)
    report(1.0, "done")
    return pixels.permute(1, 2, 0).cpu().numpy()


def attend_window(
    model: StyleNet,
    features: Features,
    memories: dict[int, StyleMemory],
    level: int,
    window: Box,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """AdaAttN (Eq. 7) for the content positions inside ``window`` only, normalised with
    the whole image's statistics, so each position equals the whole-image result."""
    feature = features.feature[level]  # (1, C, H/s, W/s) of the whole padded photo
    stride = level_stride(level)
    key = _window(features.key[level], window, stride)  # (1, D_k, h, w), normalised over the photo
    query = model.attn[str(level)].f(key).flatten(2).transpose(1, 2)  # (1, h·w, D_k)
    photo_stats = mean_std(feature.float())  # the photo's, not the window's
    return adaptive_normalize(_window(feature, window, stride), query, memories[level], chunk_size, photo_stats)


def _window(tensor: torch.Tensor, window: Box, stride: int) -> torch.Tensor:
    """The part of a (B, C, H/stride, W/stride) map under a pixel window on the STRIDE grid."""
    top, left, bottom, right = (edge // stride for edge in window)
    return tensor[..., top:bottom, left:right]


def level_stride(level: int) -> int:
    """Pixels per position of relu{level}_1: VGG halves the resolution before each block."""
    return 2 ** (level - 1)
