"""The Training panel: the run's settings and presets on the left with Check / Start / Stop /
Resume; the live run, the log, the runs list and an ablation's report on the right.

What the buttons do is ``run_control``'s job (checks, child processes, following a run);
this module lays the parts out and keeps the buttons' states."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget

from engine.train.runs import RunSummary
from styler_app.settings import AppSettings
from styler_app.training.form import TrainingForm
from styler_app.training.form_memory import save_form, saved_form
from styler_app.training.live_view import LiveRunView, RunLog
from styler_app.training.report_view import ReportView
from styler_app.training.run_control import PROBE_STEPS, RunControl
from styler_app.training.runs_table import RunsTable


class TrainingPanel(QWidget):
    preview_requested = Signal(str)  # a model file: render the preview with it
    model_available = Signal(str)  # a run wrote (or finished) a model the chooser should list
    compare_requested = Signal(list)  # 2–4 model files

    def __init__(self, runs_root: Path, gallery_styles: Callable[[], list[Path]] = list,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        """``settings``: where the form is kept between sessions (restored now, saved when a
        run starts and at shutdown); None = not kept."""
        super().__init__(parent)
        self.form = TrainingForm(runs_root)
        self.settings = settings
        if settings is not None:
            self.form.restore(saved_form(settings))
        self.control = RunControl(self.form, gallery_styles, self)
        self.monitor = self.control.monitor
        self.live = LiveRunView()
        # The parts of the live view that callers and tests read, under their own names.
        self.plot, self.sample, self.numbers = self.live.plot, self.live.sample, self.live.numbers
        self.preview_button = self.live.preview_button
        self.log = RunLog()
        self.report = ReportView()
        self.runs = RunsTable()

        self.check_button = QPushButton("Check")
        self.check_button.setToolTip(f"Check the folders and time {PROBE_STEPS} real steps at these settings")
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Save a checkpoint and stop; Resume continues from it")
        self.resume_button = QPushButton("Resume")
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.setToolTip("Render the current photo and style with 2–4 runs' models side by side")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build()
        self._connect()
        self._update_buttons()

    def _build(self) -> None:
        settings = QScrollArea()
        settings.setWidget(self.form)
        settings.setWidgetResizable(True)
        buttons = QHBoxLayout()
        for button in (self.check_button, self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(settings, 1)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.message)

        tabs = QTabWidget()
        tabs.addTab(self.log, "Log")
        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.runs, 1)
        runs_layout.addWidget(self.compare_button, 0, Qt.AlignmentFlag.AlignRight)
        tabs.addTab(runs_box, "Runs")
        tabs.addTab(self.report, "Ablation report")
        self.tabs = tabs
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.live)
        right.addWidget(tabs)
        right.setSizes([420, 220])
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left)
        outer.addWidget(right)
        outer.setSizes([max(self.form.sizeHint().width() + 30, 360), 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

    def _connect(self) -> None:
        control = self.control
        self.check_button.clicked.connect(control.check)
        self.start_button.clicked.connect(self.save_form)
        self.start_button.clicked.connect(control.start)
        self.stop_button.clicked.connect(control.stop)
        self.resume_button.clicked.connect(control.resume)
        self.preview_button.clicked.connect(self._preview_checkpoint)
        self.compare_button.clicked.connect(self._compare)
        self.runs.open_requested.connect(lambda run: self.attach(run.run_dir))
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        control.info.connect(self.show_info)
        control.error.connect(self.show_error)
        control.changed.connect(self._update_buttons)
        control.attached.connect(lambda _: self.live.clear())
        control.model_available.connect(self.model_available)
        control.ended.connect(self._ended)
        self.monitor.metrics.connect(self.live.add_metrics)
        self.monitor.log_lines.connect(self.log.add_lines)
        self.monitor.sample.connect(self.live.show_sample)
        self.monitor.summary.connect(lambda summary: self.live.show_summary(summary, self.monitor.live))
        self._runs_timer = QTimer(self, interval=2000)
        self._runs_timer.timeout.connect(self.refresh_runs)
        self._runs_timer.start()
        self.refresh_runs()

    # ------------------------------------------------------------------ for the window

    @property
    def current(self) -> RunSummary | None:
        """The run shown: followed now, or the last one followed."""
        return self.control.current

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #b00020;")
        self.message.setText(text)

    def show_info(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    def attach(self, run_dir: Path, supervisor: int | None = None) -> None:
        """Follow ``run_dir``: live curves, log, samples, and Stop while it runs."""
        self.control.attach(run_dir, supervisor)

    def reattach(self) -> RunSummary | None:
        """At start-up: follow a run left running when the window closed (see RunControl)."""
        run = self.control.reattach()
        self.refresh_runs()
        return run

    def stop(self) -> None:
        self.control.stop()

    def live_run(self) -> Path | None:
        """The run folder of a run this panel follows while it runs, else None."""
        return self.control.live_run()

    def save_form(self) -> None:
        if self.settings is not None:
            save_form(self.settings, self.form)

    def shutdown(self) -> None:
        self.save_form()
        self.control.shutdown()
        self._runs_timer.stop()
        QThreadPool.globalInstance().waitForDone(10_000)

    # ------------------------------------------------------------------ runs and models

    def _ended(self, summary: RunSummary) -> None:
        report = summary.run_dir / "report.md"
        if report.is_file():
            self.report.show_report(report)
            self.tabs.setCurrentWidget(self.report)
        self.refresh_runs()

    def refresh_runs(self) -> None:
        self.runs.refresh(Path(self.form.runs_root.text()).expanduser())
        self._update_buttons()

    def _preview_checkpoint(self) -> None:
        if self.current is not None and self.current.model_path is not None:
            self.preview_requested.emit(str(self.current.model_path))

    def _compare(self) -> None:
        models = [str(run.model_path) for run in self.runs.selected_runs() if run.model_path is not None]
        if 2 <= len(models) <= 4:
            self.compare_requested.emit(models)

    def _update_buttons(self) -> None:
        busy, live, current = self.control.busy, self.control.live, self.current
        self.check_button.setEnabled(not busy and not live)
        self.start_button.setEnabled(not busy and not live)
        self.stop_button.setEnabled(live)
        self.resume_button.setEnabled(not busy and not live and current is not None and current.can_resume)
        self.preview_button.setEnabled(current is not None and current.model_path is not None)
        with_models = [r for r in self.runs.selected_runs() if r.model_path is not None]
        self.compare_button.setEnabled(2 <= len(with_models) <= 4)


def default_runs_root() -> Path:
    from engine.paths import styler_home

    return Path(os.environ.get("STYLER_RUNS", styler_home() / "runs"))
