"""Watching a run in the Training panel: the loss curves, the numbers line (state, step,
images/s, ETA, GPU memory), the newest sample grid and *Preview with this checkpoint*; and
the process log. Fed by ``RunMonitor``'s signals; knows nothing about processes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from engine.train.runs import RunSummary
from styler_app.training.loss_plot import LossPlot
from styler_app.training.runs_table import duration

LOG_LINES = 2000
NO_SAMPLE = "The sample grid appears at the first sample step"


class LiveRunView(QSplitter):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.plot = LossPlot()
        self.numbers = QLabel("No run yet")
        self.sample = QLabel(NO_SAMPLE)
        self.sample.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sample.setMinimumSize(160, 160)
        self.preview_button = QPushButton("Preview with this checkpoint")
        self._latest: dict[str, Any] = {}  # the newest metrics record
        self._config: dict[str, Any] | None = None  # the followed run's settings, once seen

        self.addWidget(self.plot)
        sample_box = QWidget()
        sample_layout = QVBoxLayout(sample_box)
        sample_layout.addWidget(self.numbers)
        sample_layout.addWidget(self.sample, 1)
        sample_layout.addWidget(self.preview_button)
        self.addWidget(sample_box)
        self.setSizes([600, 360])

    def clear(self) -> None:
        """Empty, for the next run to follow."""
        self.plot.clear()
        self._config = None
        self.sample.setText(NO_SAMPLE)
        self.sample.setPixmap(QPixmap())

    def add_metrics(self, records: list[dict[str, Any]], reset: bool) -> None:
        if reset:  # also when an ablation's next variant starts: the last one's numbers are not its
            self.plot.clear()
            self._latest = {}
        self.plot.append(records)
        if records:
            self._latest = records[-1]

    def show_sample(self, path: str) -> None:
        pixmap = QPixmap(path)
        if not pixmap.isNull():
            self.sample.setPixmap(pixmap.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))
            self.sample.setToolTip(path)

    def show_summary(self, summary: RunSummary, live: bool) -> None:
        """``live``: the window follows the run's process (it may not have started training yet).
        An ablation shows its current variant: which one, its step and its curves."""
        study = summary.study
        # The curves are the variant's: its own weights say which terms it optimises.
        config = (study.variant.config or summary.config) if study is not None else summary.config
        if config != self._config:  # only then: a curve shown by a legend click stays
            self._config = config
            self.plot.show_weighted_terms(config)
        latest = self._latest
        text = f"{summary.name}: {summary.state if not live or summary.state == 'running' else 'starting'}"
        if study is not None:
            text += f" · {study.describe()}"
        text += f" · step {summary.step} / {summary.steps}"
        # Steps still to go: the rest of the run, or of this variant and of the variants after it.
        left = summary.steps - summary.step
        if study is not None:
            left += (len(study.variants) - study.current - 1) * summary.steps
        if latest.get("images_per_s"):
            text += f" · {latest['images_per_s']:.2f} img/s"
            if summary.state == "running" and latest.get("step_seconds"):
                text += f" · ETA {duration(left * latest['step_seconds'])}"
        if "memory_gib" in latest:
            text += f" · GPU memory {latest['memory_gib']:.2f} GiB"
        self.numbers.setText(text)


class RunLog(QPlainTextEdit):
    """The run's train.log as it grows (the newest LOG_LINES lines)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, readOnly=True)
        self.setMaximumBlockCount(LOG_LINES)

    def add_lines(self, lines: list[str], reset: bool) -> None:
        if reset:
            self.clear()
        for line in lines:
            self.appendPlainText(line)
