"""The strength slider while it is dragged: the picture a strength would give, blended from
renders of the same settings at other strengths, without asking the engine.

The engine blends features, not pixels (``torch.lerp`` before the decoder), so a pixel blend
of the neighbouring renders is an approximation, exact at each rendered strength; the
preview controller renders the exact picture when the slider is released."""

from __future__ import annotations

import bisect
from dataclasses import replace

import numpy as np
from PySide6.QtGui import QImage

from styler_app.requests import PreviewResult, RenderRequest

# The strengths rendered ahead (idle time) so any drag has a render on either side.
ANCHOR_STRENGTHS = (0.0, 1.0)


def _settings_but_strength(request: RenderRequest) -> tuple[object, ...]:
    """What must match for renders to be blended: everything except the strength."""
    mask = request.mask_edit
    mask_id = None if mask is None else (mask.shape, hash(np.ascontiguousarray(mask).tobytes()))
    return (replace(request, options=replace(request.options, strength=0.0)), mask_id)


def _pixels(image: QImage) -> np.ndarray:
    """An RGB QImage as (H, W, 3) float32."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, : 3 * w].reshape(h, w, 3).astype(np.float32)


class StrengthBlend:
    """Full-size renders of one set of settings at several strengths."""

    def __init__(self) -> None:
        self._settings: tuple[object, ...] | None = None
        self._renders: dict[float, np.ndarray] = {}

    def add(self, result: PreviewResult) -> None:
        """Keep a full preview; one of other settings starts afresh."""
        settings = _settings_but_strength(result.request)
        if settings != self._settings:
            self._settings, self._renders = settings, {}
        self._renders[result.request.options.strength] = _pixels(result.result)

    def matches(self, request: RenderRequest) -> bool:
        return self._settings == _settings_but_strength(request)

    def missing_anchors(self) -> list[float]:
        return [s for s in ANCHOR_STRENGTHS if s not in self._renders]

    def at(self, strength: float) -> QImage | None:
        """The picture at ``strength``, blended from the nearest renders either side; None
        without a render on each side (the anchors are not rendered yet)."""
        known = sorted(self._renders)
        i = bisect.bisect_left(known, strength)
        if i < len(known) and known[i] == strength:
            rgb = self._renders[strength]
        elif i == 0 or i == len(known):
            return None
        else:
            low, high = known[i - 1], known[i]
            weight = (strength - low) / (high - low)
            rgb = self._renders[low] + (self._renders[high] - self._renders[low]) * weight
        pixels = np.ascontiguousarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
        h, w = pixels.shape[:2]
        return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
