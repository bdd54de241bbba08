"""Post-processing of a stylised image against its content: colour preservation."""

from __future__ import annotations

import numpy as np

# BT.601 luma weights: luminance-only transfer keeps the content's chroma.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def preserve_color(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Stylised luminance with the content's colour: (H, W, 3) float images in [0, 1].

    Adds the luminance difference to every channel, which equals swapping Y in YCbCr
    while keeping Cb and Cr, without a round trip through another colour space."""
    delta = (stylized - content) @ _LUMA
    return np.clip(content + delta[..., None], 0.0, 1.0)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)


Box = tuple[int, int, int, int]  # (top, left, bottom, right), bottom/right exclusive


def region_box(mask: np.ndarray) -> Box | None:
    """Bounding box of the mask's non-zero pixels, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def fuse(original: np.ndarray, stylized: np.ndarray, mask: np.ndarray, box: Box | None = None) -> np.ndarray:
    """mask·stylized + (1 − mask)·original, blended in linear light.

    ``original`` (H, W, 3) and ``mask`` (H, W) are full size; ``stylized`` covers ``box``
    (the whole image when None) and the mask must be 0 outside it. Where the mask is exactly
    0 the result is ``original``'s values bit for bit, where it is exactly 1 ``stylized``'s;
    only the pixels in between are blended. Linear light because a soft edge blended in
    sRGB darkens: the mean of two gamma-encoded colours is darker than their light's mean."""
    height, width = mask.shape
    top, left, bottom, right = box or (0, 0, height, width)
    if stylized.shape[:2] != (bottom - top, right - left):
        raise ValueError(f"stylized {stylized.shape[:2]} does not cover the box {box}")
    out = original.copy()
    m = mask[top:bottom, left:right]
    target = out[top:bottom, left:right]  # a view: writes land in ``out``
    full = m >= 1.0
    target[full] = stylized[full]
    partial = (m > 0.0) & ~full
    if partial.any():
        w = m[partial][:, None]
        mixed = w * srgb_to_linear(stylized[partial]) + (1.0 - w) * srgb_to_linear(target[partial])
        target[partial] = linear_to_srgb(mixed)
    return out
