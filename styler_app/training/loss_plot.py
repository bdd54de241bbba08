"""Live loss curves (pyqtgraph): one line per loss term, optional exponential smoothing and
log scale. ``append`` only stores; the curves are redrawn at most REDRAW_HZ times a second,
so a fast run (or a 100 000-line history) never floods the event loop."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from scipy.signal import lfilter
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

TERMS = ("loss", "global", "local", "skew")  # metrics.jsonl keys; "loss" is the weighted total
LABELS = {"loss": "total (weighted)", "global": "global", "local": "local", "skew": "skew"}
COLOURS = {"loss": "#000000", "global": "#0072B2", "local": "#D55E00", "skew": "#009E73"}  # Okabe–Ito
REDRAW_HZ = 4


def ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """Exponential moving average, debiased as TensorBoard does (the first points are not
    pulled towards 0); smoothing 0 returns the values themselves."""
    if smoothing <= 0 or len(values) == 0:
        return values
    running = lfilter([1 - smoothing], [1, -smoothing], values)
    return running / (1 - smoothing ** np.arange(1, len(values) + 1))


class _Series:
    """A growable float array (amortised appends)."""

    def __init__(self) -> None:
        self._data = np.empty(1024)
        self.size = 0

    def extend(self, values: list[float]) -> None:
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
        item = self.plot.getPlotItem()
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        self.curves = {
            term: self.plot.plot([], [], pen=pg.mkPen(COLOURS[term], width=2), name=LABELS[term]) for term in TERMS
        }
        self._steps = _Series()
        self._values = {term: _Series() for term in TERMS}

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
        self.smoothing.valueChanged.connect(self.redraw)
        self.log_scale.toggled.connect(self._set_log)

    def append(self, records: list[dict]) -> None:
        records = [r for r in records if "step" in r]
        if not records:
            return
        self._steps.extend([float(r["step"]) for r in records])
        for term in TERMS:
            self._values[term].extend([float(r.get(term, np.nan)) for r in records])
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def clear(self) -> None:
        self._steps = _Series()
        self._values = {term: _Series() for term in TERMS}
        self.redraw()

    def redraw(self) -> None:
        self._redraw_timer.stop()
        steps = self._steps.view()
        for term, curve in self.curves.items():
            values = self._values[term].view()
            curve.setData(steps.copy(), ema(values, self.smoothing.value()))

    def _set_log(self, on: bool) -> None:
        self.plot.setLogMode(y=on)

    def point_count(self) -> int:
        return self._steps.size
