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
