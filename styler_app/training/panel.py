"""The Training panel: settings and presets on the left; checks, the live run (curves,
sample grid, numbers, log) and the runs list on the right.

Start and Check first verify the folders (in a background thread) and that no other
process holds the run folder; Check then times a few real steps in a child process. A run
is a detached child process (see ``run_process``); this panel only reads its folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.errors import StylerError
from engine.train.folders import FolderCheck, check_folder
from engine.train.lock import in_use_message, lock_holder
from engine.train.runs import RunSummary, run_summary
from styler_app.training.form import TrainingForm
from styler_app.training.loss_plot import LossPlot
from styler_app.training.report_view import ReportView
from styler_app.training.run_monitor import RunMonitor
from styler_app.training.run_process import ProbeProcess, launch, request_stop
from styler_app.training.runs_table import RunsTable, duration

PROBE_STEPS = 3
LOG_LINES = 2000


class _Signals(QObject):
    done = Signal(object, str)  # (content, style) FolderChecks or None, error message


class _FolderCheckTask(QRunnable):
    """Both folders checked off the GUI thread (a large folder takes seconds to decode)."""

    def __init__(self, content: str, style: str) -> None:
        super().__init__()
        self.content, self.style = content, style
        self.signals = _Signals()

    def run(self) -> None:
        try:
            checks = (check_folder(self.content, "content"), check_folder(self.style, "style"))
        except StylerError as exc:
            self.signals.done.emit(None, str(exc))
            return
        self.signals.done.emit(checks, "")


class TrainingPanel(QWidget):
    preview_requested = Signal(str)  # a model file: render the preview with it
    model_available = Signal(str)  # a run wrote (or finished) a model the chooser should list
    compare_requested = Signal(list)  # 2–4 model files

    def __init__(self, runs_root: Path, gallery_styles: Callable[[], list[Path]] = list,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery_styles = gallery_styles
        self.form = TrainingForm(runs_root)
        self.monitor = RunMonitor(self)
        self.probe = ProbeProcess(self)
        self.plot = LossPlot()
        self.report = ReportView()
        self.runs = RunsTable()
        self.current: RunSummary | None = None
        self._pending: Callable[[tuple[FolderCheck, FolderCheck]], None] | None = None
        self._tasks: list[_FolderCheckTask] = []
        self._latest: dict[str, Any] = {}

        self.check_button = QPushButton("Check")
        self.check_button.setToolTip(f"Check the folders and time {PROBE_STEPS} real steps at these settings")
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Save a checkpoint and stop; Resume continues from it")
        self.resume_button = QPushButton("Resume")
        self.preview_button = QPushButton("Preview with this checkpoint")
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.setToolTip("Render the current photo and style with 2–4 runs' models side by side")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.numbers = QLabel("No run yet")
        self.sample = QLabel("The sample grid appears at the first sample step")
        self.sample.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sample.setMinimumSize(160, 160)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(LOG_LINES)
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

        live = QSplitter(Qt.Orientation.Horizontal)
        live.addWidget(self.plot)
        sample_box = QWidget()
        sample_layout = QVBoxLayout(sample_box)
        sample_layout.addWidget(self.numbers)
        sample_layout.addWidget(self.sample, 1)
        sample_layout.addWidget(self.preview_button)
        live.addWidget(sample_box)
        live.setSizes([600, 360])
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
        right.addWidget(live)
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
        self.check_button.clicked.connect(self.check)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.preview_button.clicked.connect(self._preview_checkpoint)
        self.compare_button.clicked.connect(self._compare)
        self.runs.open_requested.connect(lambda run: self.attach(run.run_dir))
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        self.monitor.metrics.connect(self._metrics)
        self.monitor.log_lines.connect(self._log_lines)
        self.monitor.sample.connect(self._sample)
        self.monitor.summary.connect(self._summary)
        self.monitor.ended.connect(self._ended)
        self.probe.finished.connect(self._probe_done)
        self.probe.failed.connect(self.show_error)
        self.probe.finished.connect(lambda _: self._update_buttons())
        self.probe.failed.connect(lambda _: self._update_buttons())
        self._runs_timer = QTimer(self, interval=2000)
        self._runs_timer.timeout.connect(self.refresh_runs)
        self._runs_timer.start()
        self.refresh_runs()

    # ------------------------------------------------------------------ messages

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #b00020;")
        self.message.setText(text)

    def show_info(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    # ------------------------------------------------------------------ checks

    def _style_folder(self) -> Path:
        if not self.form.gallery_styles.isChecked():
            return Path(self.form.style_folder.text()).expanduser()
        # The gallery's styles, linked (not copied) into a folder of the run.
        folder = self.form.run_dir() / "gallery-styles"
        folder.mkdir(parents=True, exist_ok=True)
        for index, style in enumerate(self.gallery_styles()):
            link = folder / f"{index:03d}-{style.name}"
            if not link.exists():
                try:
                    link.symlink_to(style.resolve())
                except OSError:
                    link.write_bytes(style.read_bytes())
        return folder

    def _refusal(self, resume: bool) -> str:
        """Why this run folder cannot be (re)started now, or ''."""
        if not self.form.run_name.text().strip():
            return "Give the run a name: it becomes its folder under the runs folder."
        run_dir = self.form.run_dir()
        holder = lock_holder(run_dir)
        if holder is not None:
            return in_use_message(run_dir, holder if holder > 0 else None)
        summary = run_summary(run_dir)
        if not resume and summary.checkpoint_step is not None:
            return (f"{run_dir} already holds a run (step {summary.checkpoint_step}); Resume it, "
                    "or choose another run name")
        if resume and not summary.can_resume:
            return f"{run_dir}: nothing to resume (no checkpoint, or the run has finished)"
        return ""

    def _with_folders_checked(self, then: Callable[[tuple[FolderCheck, FolderCheck]], None]) -> None:
        try:
            style = self._style_folder()
        except OSError as exc:
            self.show_error(f"Cannot gather the gallery's styles: {exc}")
            return
        self.show_info("Checking the folders…")
        self._pending = then
        task = _FolderCheckTask(self.form.content_folder.text(), str(style))
        task.signals.done.connect(self._folders_checked)
        self._tasks.append(task)  # keeps its signals object alive until it reports
        QThreadPool.globalInstance().start(task)
        self._update_buttons()

    def _folders_checked(self, checks: tuple[FolderCheck, FolderCheck] | None, error: str) -> None:
        self._tasks = [t for t in self._tasks if t.signals is not self.sender()]
        then, self._pending = self._pending, None
        if checks is None:
            self.show_error(error)
        else:
            self.show_info(f"Content: {checks[0].summary()}. Style: {checks[1].summary()}.")
            if then is not None:
                then(checks)
        self._update_buttons()

    def check(self) -> None:
        """Folders, then a measured probe of a few real steps."""
        refusal = self._refusal(resume=False) if not self.form.study() else ""
        if refusal:
            self.show_error(refusal)
            return

        def probe(checks: tuple[FolderCheck, FolderCheck]) -> None:
            self.show_info(self.message.text() + f" Timing {PROBE_STEPS} steps…")
            args = self.form.arguments(checks[1].folder)
            if args[0] == "ablate":  # the probe times one training run at the study's settings
                args = ["train", *args[2:]]
            self.probe.start(args, PROBE_STEPS)
            self._update_buttons()

        self._with_folders_checked(probe)

    def _probe_done(self, result: dict[str, Any]) -> None:
        memory = result["peak_memory_bytes"] / 2**30
        kind = "GPU memory" if result["memory_kind"] == "GPU" else "memory (whole process)"
        self.show_info(
            f"{self.message.text().split(' Timing')[0]} Measured on {result['device']}: "
            f"{result['seconds_per_step']:.2f} s/step → {self.form.steps.value()} steps ≈ "
            f"{duration(result['eta_seconds'])}; peak {kind} {memory:.2f} GiB."
        )

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        refusal = self._refusal(resume=False)
        if refusal:
            self.show_error(refusal)
            return
        self._with_folders_checked(lambda checks: self._launch(self.form.arguments(checks[1].folder)))

    def resume(self) -> None:
        run_dir = self.current.run_dir if self.current is not None else self.form.run_dir()
        self.form.runs_root.setText(str(run_dir.parent))
        self.form.run_name.setText(run_dir.name)
        refusal = self._refusal(resume=True)
        if refusal:
            self.show_error(refusal)
            return
        steps = max(self.form.steps.value(), (self.current.steps if self.current else 0))
        self._launch(["train", "-o", str(run_dir), "--resume", "--steps", str(steps),
                      "--workers", str(self.form.workers.value())])

    def _launch(self, args: list[str]) -> None:
        run_dir = self.form.run_dir()
        try:
            supervisor = launch(run_dir, args)
        except StylerError as exc:
            self.show_error(str(exc))
            return
        self.show_info(f"Started styler {args[0]} in {run_dir}")
        self.attach(run_dir, supervisor)

    def attach(self, run_dir: Path, supervisor: int | None = None) -> None:
        """Watch ``run_dir`` (a run this window started, or one found running at start-up)."""
        self.plot.clear()
        self.sample.setText("The sample grid appears at the first sample step")
        self.sample.setPixmap(QPixmap())
        self.current = run_summary(run_dir)
        self.monitor.attach(run_dir, supervisor)
        self._update_buttons()

    def reattach(self) -> RunSummary | None:
        """At start-up: watch the newest run that is still going (left running when the
        window closed), with live curves and Stop, as if this window had started it."""
        running = self.running_runs()
        if not running:
            return None
        run = running[0]
        self.form.runs_root.setText(str(run.run_dir.parent))
        self.form.run_name.setText(run.name)
        self.attach(run.run_dir, run.supervisor)
        self.show_info(f"Re-attached to {run.name}, still running (step {run.step} of {run.steps}).")
        return run

    def stop(self) -> None:
        if self.current is not None and self.monitor.live:
            request_stop(self.current.run_dir)
            self.show_info("Stopping: the checkpoint is saved at the end of the current step…")

    def live_run(self) -> Path | None:
        return self.current.run_dir if self.current is not None and self.monitor.live else None

    def shutdown(self) -> None:
        self.monitor.detach()
        self.probe.kill()
        self._runs_timer.stop()
        QThreadPool.globalInstance().waitForDone(10_000)

    # ------------------------------------------------------------------ monitor signals

    def _metrics(self, records: list[dict[str, Any]], reset: bool) -> None:
        if reset:
            self.plot.clear()
        self.plot.append(records)
        if records:
            self._latest = records[-1]

    def _log_lines(self, lines: list[str], reset: bool) -> None:
        if reset:
            self.log.clear()
        for line in lines:
            self.log.appendPlainText(line)

    def _sample(self, path: str) -> None:
        pixmap = QPixmap(path)
        if not pixmap.isNull():
            self.sample.setPixmap(pixmap.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))
            self.sample.setToolTip(path)

    def _summary(self, summary: RunSummary) -> None:
        previous = self.current
        self.current = summary
        if previous is None or previous.config != summary.config:
            self.plot.show_weighted_terms(summary.config)
        latest = self._latest
        text = f"{summary.name}: {summary.state if not self.monitor.live or summary.state == 'running' else 'starting'}"
        text += f" · step {summary.step} / {summary.steps}"
        if latest.get("images_per_s"):
            text += f" · {latest['images_per_s']:.2f} img/s"
            if summary.state == "running" and latest.get("step_seconds"):
                text += f" · ETA {duration((summary.steps - summary.step) * latest['step_seconds'])}"
        if "memory_gib" in latest:
            text += f" · GPU memory {latest['memory_gib']:.2f} GiB"
        self.numbers.setText(text)
        if previous is None or previous.checkpoint_step != summary.checkpoint_step or previous.state != summary.state:
            self._update_buttons()
            if summary.model_path is not None:
                self.model_available.emit(str(summary.model_path))

    def _ended(self, summary: RunSummary) -> None:
        self.current = summary
        if summary.state == "failed":
            resume = (f" Resume continues from the checkpoint of step {summary.checkpoint_step}."
                      if summary.can_resume else "")
            self.show_error(f"{summary.name} failed: {summary.message}{resume}")
        elif summary.state == "stopped":
            self.show_info(f"{summary.name} stopped at step {summary.checkpoint_step}: checkpoint saved; Resume continues it.")
        else:
            self.show_info(f"{summary.name} finished at step {summary.step}.")
        report = summary.run_dir / "report.md"
        if report.is_file():
            self.report.show_report(report)
            self.tabs.setCurrentWidget(self.report)
        if summary.model_path is not None:
            self.model_available.emit(str(summary.model_path))
        self.refresh_runs()
        self._update_buttons()

    # ------------------------------------------------------------------ runs and models

    def refresh_runs(self) -> None:
        self.runs.refresh(Path(self.form.runs_root.text()).expanduser())
        self._update_buttons()

    def running_runs(self) -> list[RunSummary]:
        self.runs.refresh(Path(self.form.runs_root.text()).expanduser())
        return [run for run in self.runs.runs if run.state == "running"]

    def _preview_checkpoint(self) -> None:
        if self.current is not None and self.current.model_path is not None:
            self.preview_requested.emit(str(self.current.model_path))

    def _compare(self) -> None:
        models = [str(run.model_path) for run in self.runs.selected_runs() if run.model_path is not None]
        if 2 <= len(models) <= 4:
            self.compare_requested.emit(models)

    def _update_buttons(self) -> None:
        busy = self._pending is not None or self.probe.is_running()
        live = self.monitor.live
        self.check_button.setEnabled(not busy and not live)
        self.start_button.setEnabled(not busy and not live)
        self.stop_button.setEnabled(live)
        self.resume_button.setEnabled(not busy and not live and self.current is not None and self.current.can_resume)
        self.preview_button.setEnabled(self.current is not None and self.current.model_path is not None)
        with_models = [r for r in self.runs.selected_runs() if r.model_path is not None]
        self.compare_button.setEnabled(2 <= len(with_models) <= 4)


def default_runs_root() -> Path:
    from engine.paths import styler_home

    return Path(os.environ.get("STYLER_RUNS", styler_home() / "runs"))
