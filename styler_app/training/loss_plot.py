"""Live loss curves (pyqtgraph): one line per loss term, optional exponential smoothing and
log scale. ``append`` only stores; the curves are redrawn at most REDRAW_HZ times a second,
so a fast run (or a 100 000-line history) never floods the event loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from scipy.signal import lfilter

TERMS = ("loss", "global", "local", "skew")  # metrics.jsonl keys; "loss" is the weighted total
LABELS = {"loss": "total (weighted)", "global": "global", "local": "local", "skew": "skew"}
COLOURS = {"loss": "#000000", "global": "#0072B2", "local": "#D55E00", "skew": "#009E73"}  # Okabe–Ito
REDRAW_HZ = 4
# 1 px pens: Qt draws wider lines many times slower (pyqtgraph says the same).
MAX_POINTS = 2000  # per curve on screen; longer histories are drawn as a min/max envelope


def ema(values: np.ndarray, smoothing: float, last: float = 0.0, start: int = 0) -> tuple[np.ndarray, float]:
    """Exponential moving average, debiased as TensorBoard does (the first points are not
    pulled towards 0). Continues a series: ``last`` is the raw running average after its
    first ``start`` values. -> (smoothed values, new ``last``); smoothing 0 is the identity."""
    if smoothing <= 0 or len(values) == 0:
        return values, last
    running, _ = lfilter([1 - smoothing], [1, -smoothing], values, zi=[smoothing * last])
    debias = 1 - smoothing ** np.arange(start + 1, start + len(values) + 1)
    return running / debias, float(running[-1])


def envelope(x: np.ndarray, y: np.ndarray, bins: int = MAX_POINTS // 2) -> tuple[np.ndarray, np.ndarray]:
    """At most 2·bins points that keep every bin's lowest and highest value, so spikes stay
    visible while a 100 000-step history draws as fast as a short one."""
    if len(x) <= 2 * bins:
        return x, y
    per_bin = -(-len(x) // bins)
    usable = len(x) // per_bin * per_bin
    xs = x[:usable].reshape(-1, per_bin)
    ys = y[:usable].reshape(-1, per_bin)
    rows = np.arange(len(ys))
    low, high = np.nanargmin(ys, axis=1), np.nanargmax(ys, axis=1)
    first, second = np.minimum(low, high), np.maximum(low, high)  # in step order
    out_x = np.stack([xs[rows, first], xs[rows, second]], axis=1).ravel()
    out_y = np.stack([ys[rows, first], ys[rows, second]], axis=1).ravel()
    return np.append(out_x, x[usable:]), np.append(out_y, y[usable:])


class _Series:
    """A growable float array (amortised appends)."""

    def __init__(self) -> None:
        self._data = np.empty(1024)
        self.size = 0

    def extend(self, values: list[float] | np.ndarray) -> None:
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.empty(max(needed, 2 * len(self._data)))
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed

    def view(self) -> np.ndarray:
        return self._data[: self.size]


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "step")
        self.plot.addLegend(offset=(-10, 10))
        self.curves = {
            term: self.plot.plot([], [], pen=pg.mkPen(COLOURS[term], width=1), name=LABELS[term]) for term in TERMS
        }
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

    def _reset_series(self) -> None:
        self._steps = _Series()
        self._values = {term: _Series() for term in TERMS}
        # The smoothed curves grow with the data, so a live update smooths only what is new.
        self._smoothed = {term: _Series() for term in TERMS}
        self._running = {term: 0.0 for term in TERMS}

    def append(self, records: list[dict[str, Any]]) -> None:
        records = [r for r in records if "step" in r]
        if not records:
            return
        start = self._steps.size
        self._steps.extend([float(r["step"]) for r in records])
        smoothing = self.smoothing.value()
        for term in TERMS:
            new = np.array([float(r.get(term, np.nan)) for r in records])
            self._values[term].extend(new)
            smoothed, self._running[term] = ema(new, smoothing, self._running[term], start)
            self._smoothed[term].extend(smoothed)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def clear(self) -> None:
        self._reset_series()
        self.redraw()

    def _resmooth(self) -> None:
        smoothing = self.smoothing.value()
        for term in TERMS:
            smoothed, self._running[term] = ema(self._values[term].view(), smoothing)
            self._smoothed[term] = _Series()
            self._smoothed[term].extend(smoothed)
        self.redraw()

    def redraw(self) -> None:
        self._redraw_timer.stop()
        steps = self._steps.view()
        for term, curve in self.curves.items():
            curve.setData(*envelope(steps, self._smoothed[term].view()))

    def show_weighted_terms(self, config: dict[str, Any]) -> None:
        """Hide the curves of terms the run does not optimise (λ = 0): logged for comparisons,
        they would set the scale. A click on a legend entry shows a hidden curve again."""
        weights = {"global": config.get("lambda_global", 1), "local": config.get("lambda_local", 1),
                   "skew": config.get("lambda_skew", 0)}
        for term, curve in self.curves.items():
            curve.setVisible(term == "loss" or bool(weights.get(term)))

    def _set_log(self, on: bool) -> None:
        self.plot.setLogMode(y=on)

    def point_count(self) -> int:
        return self._steps.size
