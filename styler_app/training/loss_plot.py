"""Live loss curves (pyqtgraph): one line per loss term, optional exponential smoothing and
log scale. ``append`` only stores; the curves are redrawn at most REDRAW_HZ times a second,
so a fast run (or a 100 000-line history) never floods the event loop.

A live update costs time in proportion to the new points, not to the history: smoothing
continues from its last state, the drawn envelope (``curve_envelope``) grows bin by bin,
and the bounds the view is fitted to are running minima and maxima. The view itself moves
only when the data leaves it (see ``_fit_frame``): each change of range redraws both axes
and their grid, which costs more than the curves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)
from scipy.signal import lfilter

from styler_app.training.curve_envelope import Envelope, GrowingArray

TERMS = ("loss", "global", "local", "skew")  # metrics.jsonl keys; "loss" is the weighted total
LABELS = {"loss": "total (weighted)", "global": "global", "local": "local", "skew": "skew"}
COLOURS = {"loss": "#000000", "global": "#0072B2", "local": "#D55E00", "skew": "#009E73"}  # Okabe–Ito
REDRAW_HZ = 4
# 1 px pens: Qt draws wider lines many times slower (pyqtgraph says the same).
HEADROOM = 0.1  # of the data's extent, left free around it so that new points fit for a while


def ema(values: np.ndarray, smoothing: float, last: float = 0.0, start: int = 0) -> tuple[np.ndarray, float]:
    """Exponential moving average, debiased as TensorBoard does (the first points are not
    pulled towards 0). Continues a series: ``last`` is the raw running average after its
    first ``start`` values. -> (smoothed values, new ``last``); smoothing 0 is the identity."""
    if smoothing <= 0 or len(values) == 0:
        return values, last
    running, _ = lfilter([1 - smoothing], [1, -smoothing], values, zi=[smoothing * last])
    debias = 1 - smoothing ** np.arange(start + 1, start + len(values) + 1)
    return running / debias, float(running[-1])


class ClippedAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """An axis whose painting is clipped to its own bounds. Its grid lines span the view;
    without a clip Qt's raster engine drew them ~15× slower (measured: 4 ms vs 0.3 ms for
    one axis, and more on a widget), and a change of range redraws both axes."""

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None) -> None:
        painter.setClipRect(QRectF(self.boundingRect()), Qt.ClipOperation.IntersectClip)
        super().paint(painter, option, widget)


class _Term:
    """One loss term: raw and smoothed values, its envelope, and running bounds."""

    def __init__(self) -> None:
        self.values = GrowingArray()
        self.smoothed = GrowingArray()
        self.envelope = Envelope()
        self.running = 0.0  # the smoothing filter's state
        self.low = self.high = self.low_positive = np.nan  # of the smoothed values

    def add_smoothed(self, values: np.ndarray) -> None:
        self.smoothed.extend(values)
        finite = values[np.isfinite(values)]
        if len(finite):
            self.low, self.high = np.fmin(self.low, finite.min()), np.fmax(self.high, finite.max())
        positive = finite[finite > 0]
        if len(positive):
            self.low_positive = np.fmin(self.low_positive, positive.min())


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w", axisItems={side: ClippedAxis(side) for side in ("left", "bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "step")
        self.plot.addLegend(offset=(-10, 10))
        for axis in ("left", "bottom"):
            # An axis draws its grid across the whole view; drawn into a cached pixmap once
            # per change of range, a repaint copies it (drawing it each time cost ~10 ms).
            self.plot.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.curves = {
            term: self.plot.plot([], [], pen=pg.mkPen(COLOURS[term], width=1), name=LABELS[term]) for term in TERMS
        }
        # Invisible: its two corners are what the automatic range fits (with the data inside).
        self._frame = self.plot.plot([], [], pen=pg.mkPen((0, 0, 0, 0)))
        self._frame_box: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1
        self._reset_series()

        self.smoothing = QDoubleSpinBox(minimum=0.0, maximum=0.99, singleStep=0.1, value=0.0, decimals=2)
        self.smoothing.setToolTip("Exponential smoothing of the curves (0 = the logged values)")
        self.log_scale = QCheckBox("Log scale")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing)
        controls.addWidget(self.log_scale)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot, 1)

        self._redraw_timer = QTimer(self, singleShot=True, interval=1000 // REDRAW_HZ)
        self._redraw_timer.timeout.connect(self.redraw)
        self.smoothing.valueChanged.connect(self._resmooth)
        self.log_scale.toggled.connect(self._set_log)
        for curve in self.curves.values():  # shown or hidden (legend click): fit the view again
            curve.visibleChanged.connect(self._refit)

    def _reset_series(self) -> None:
        self._steps = GrowingArray()
        self._terms = {term: _Term() for term in TERMS}
        self._frame_box = None

    def append(self, records: list[dict[str, Any]]) -> None:
        records = [r for r in records if "step" in r]
        if not records:
            return
        start = self._steps.size
        self._steps.extend([float(r["step"]) for r in records])
        smoothing = self.smoothing.value()
        for name, term in self._terms.items():
            new = np.array([float(r.get(name, np.nan)) for r in records])
            term.values.extend(new)
            smoothed, term.running = ema(new, smoothing, term.running, start)
            term.add_smoothed(smoothed)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def clear(self) -> None:
        self._reset_series()
        self.redraw()

    def _resmooth(self) -> None:
        smoothing = self.smoothing.value()
        for term in self._terms.values():
            smoothed, term.running = ema(term.values.view(), smoothing)
            term.smoothed, term.low, term.high, term.low_positive = GrowingArray(), np.nan, np.nan, np.nan
            term.add_smoothed(smoothed)
            term.envelope.reset()
        self._refit()

    def redraw(self) -> None:
        self._redraw_timer.stop()
        steps = self._steps.view()
        for name, curve in self.curves.items():
            term = self._terms[name]
            curve.setData(*term.envelope.points(steps, term.smoothed.view()))
        self._fit_frame()

    def _refit(self) -> None:
        self._frame_box = None
        self.redraw()

    def _fit_frame(self) -> None:
        """Move the view only when the data has left it or fills less than half its height:
        the frame's corners get HEADROOM around the data (in log10 on a log scale)."""
        steps = self._steps.view()
        log = self.log_scale.isChecked()
        shown = [t for name, t in self._terms.items() if self.curves[name].isVisible()]
        lows = [t.low_positive if log else t.low for t in shown]
        highs = [t.high for t in shown]
        if not len(steps) or not np.isfinite(lows).any() or not np.isfinite(highs).any():
            self._frame.setData([], [])
            self._frame_box = None
            return
        low, high = float(np.nanmin(lows)), float(np.nanmax(highs))
        if log:
            low, high = np.log10(low), np.log10(max(high, 10**low))
        first, last = float(steps[0]), float(steps[-1])
        box = self._frame_box
        if box is not None and box[0] == first and last <= box[1] and box[2] <= low and high <= box[3] \
                and high - low >= 0.5 * (box[3] - box[2]):
            return
        margin = HEADROOM * max(high - low, abs(high) * 1e-3, 1e-12)
        box = (first, last + max(HEADROOM * (last - first), 1.0), low - margin, high + margin)
        self._frame_box = box
        y0, y1 = (10 ** box[2], 10 ** box[3]) if log else (box[2], box[3])
        self._frame.setData([box[0], box[1]], [y0, y1])

    def show_weighted_terms(self, config: dict[str, Any]) -> None:
        """Hide the curves of terms the run does not optimise (λ = 0): logged for comparisons,
        they would set the scale. A click on a legend entry shows a hidden curve again."""
        weights = {"global": config.get("lambda_global", 1), "local": config.get("lambda_local", 1),
                   "skew": config.get("lambda_skew", 0)}
        for term, curve in self.curves.items():
            curve.setVisible(term == "loss" or bool(weights.get(term)))

    def _set_log(self, on: bool) -> None:
        self.plot.setLogMode(y=on)
        self._refit()

    def point_count(self) -> int:
        return self._steps.size
