"""What the Training panel's buttons do: Check (folders, then a measured probe), Start,
Stop, Resume, and following a run (one this window started, one re-attached at start-up,
or one double-clicked in the runs list). Reads the settings from the form and reports in
words through ``info`` and ``error``; the panel shows them and everything else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.errors import StylerError
from engine.train.runs import RunSummary, StudyProgress, list_runs, run_summary
from styler_app.training.form import TrainingForm
from styler_app.training.run_checks import FolderChecker, FolderChecks, gather_gallery_styles, run_folder_refusal
from styler_app.training.run_monitor import RunMonitor
from styler_app.training.run_process import ProbeProcess, launch, request_stop
from styler_app.training.runs_table import duration

PROBE_STEPS = 3


class RunControl(QObject):
    info = Signal(str)
    error = Signal(str)
    changed = Signal()  # checking, probing, following or the run's state changed: buttons
    attached = Signal(object)  # RunSummary: now following this run (from its start)
    model_available = Signal(str)  # a run wrote (or finished) a model file
    ended = Signal(object)  # RunSummary: the followed run's process is gone (after its message)

    def __init__(self, form: TrainingForm, gallery_styles: Callable[[], list[Path]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.gallery_styles = gallery_styles
        self.monitor = RunMonitor(self)
        self.probe = ProbeProcess(self)
        self.folders = FolderChecker(self)
        self.current: RunSummary | None = None
        self._checked = ""  # what the last folder check found, in words
        self.folders.done.connect(self._folders_checked)
        self.probe.finished.connect(self._probe_done)
        self.probe.failed.connect(self.error)
        self.probe.failed.connect(lambda _: self.changed.emit())
        self.monitor.summary.connect(self._summary)
        self.monitor.ended.connect(self._ended)

    @property
    def busy(self) -> bool:
        """Checking folders or probing: no second check or start until it reports."""
        return self.folders.busy or self.probe.is_running()

    @property
    def live(self) -> bool:
        return self.monitor.live

    # ------------------------------------------------------------------ checks

    def _refusal(self, resume: bool) -> str:
        return run_folder_refusal(self.form.run_name.text().strip(), self.form.run_dir(), resume)

    def _with_folders_checked(self, then: Callable[[FolderChecks], None]) -> None:
        if self.form.gallery_styles.isChecked():
            try:
                style = gather_gallery_styles(self.form.run_dir(), self.gallery_styles())
            except OSError as exc:
                self.error.emit(f"Cannot gather the gallery's styles: {exc}")
                return
        else:
            style = Path(self.form.style_folder.text()).expanduser()
        self.info.emit("Checking the folders…")
        self.folders.check(self.form.content_folder.text(), str(style), then)
        self.changed.emit()

    def _folders_checked(self, checks: FolderChecks | None, error: str) -> None:
        if checks is None:
            self.error.emit(error)
        else:
            self._checked = f"Content: {checks[0].summary()}. Style: {checks[1].summary()}."
            self.info.emit(self._checked)
        self.changed.emit()

    def check(self) -> None:
        """Folders, then a measured probe of a few real steps."""
        refusal = self._refusal(resume=False) if not self.form.study() else ""
        if refusal:
            self.error.emit(refusal)
            return

        def probe(checks: FolderChecks) -> None:
            self.info.emit(f"{self._checked} Timing {PROBE_STEPS} steps…")
            args = self.form.arguments(checks[1].folder)
            if args[0] == "ablate":  # the probe times one training run at the study's settings
                args = ["train", *args[2:]]
            self.probe.start(args, PROBE_STEPS)
            self.changed.emit()

        self._with_folders_checked(probe)

    def _probe_done(self, result: dict[str, Any]) -> None:
        memory = result["peak_memory_bytes"] / 2**30
        kind = "GPU memory" if result["memory_kind"] == "GPU" else "memory (whole process)"
        self.info.emit(
            f"{self._checked} Measured on {result['device']}: "
            f"{result['seconds_per_step']:.2f} s/step → {self.form.steps.value()} steps ≈ "
            f"{duration(result['eta_seconds'])}; peak {kind} {memory:.2f} GiB."
        )
        self.changed.emit()

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        refusal = self._refusal(resume=False)
        if refusal:
            self.error.emit(refusal)
            return
        self._with_folders_checked(lambda checks: self._launch(self.form.arguments(checks[1].folder)))

    def resume(self) -> None:
        run_dir = self.current.run_dir if self.current is not None else self.form.run_dir()
        self.form.runs_root.setText(str(run_dir.parent))
        self.form.run_name.setText(run_dir.name)
        refusal = self._refusal(resume=True)
        if refusal:
            self.error.emit(refusal)
            return
        workers = ["--workers", str(self.form.workers.value())]
        if run_summary(run_dir).study is not None:  # the study's own budget: its variants compare at equal steps
            self._launch(["ablate", "--resume", "-o", str(run_dir), *workers])
            return
        steps = max(self.form.steps.value(), (self.current.steps if self.current else 0))
        self._launch(["train", "-o", str(run_dir), "--resume", "--steps", str(steps), *workers])

    def _launch(self, args: list[str]) -> None:
        run_dir = self.form.run_dir()
        try:
            supervisor = launch(run_dir, args)
        except StylerError as exc:
            self.error.emit(str(exc))
            return
        self.info.emit(f"Started styler {args[0]} in {run_dir}")
        self.attach(run_dir, supervisor)

    def attach(self, run_dir: Path, supervisor: int | None = None) -> None:
        """Follow ``run_dir`` (a run this window started, or one found running at start-up)."""
        self.current = run_summary(run_dir)
        self.attached.emit(self.current)
        self.monitor.attach(run_dir, supervisor)
        self.changed.emit()

    def reattach(self) -> RunSummary | None:
        """At start-up: follow the newest run that is still going (left running when the
        window closed), with live curves and Stop, as if this window had started it."""
        running = [run for run in list_runs(Path(self.form.runs_root.text()).expanduser()) if run.state == "running"]
        if not running:
            return None
        run = running[0]
        self.form.runs_root.setText(str(run.run_dir.parent))
        self.form.run_name.setText(run.name)
        self.attach(run.run_dir, run.supervisor)
        where = f"{run.study.describe()} · " if run.study is not None else ""
        self.info.emit(f"Re-attached to {run.name}, still running ({where}step {run.step} of {run.steps}).")
        return run

    def stop(self) -> None:
        if self.current is not None and self.monitor.live:
            request_stop(self.current.run_dir)
            self.info.emit("Stopping: the checkpoint is saved at the end of the current step…")

    def live_run(self) -> Path | None:
        return self.current.run_dir if self.current is not None and self.monitor.live else None

    def shutdown(self) -> None:
        """Stop following (the run itself goes on) and end the probe."""
        self.monitor.detach()
        self.probe.kill()

    # ------------------------------------------------------------------ how the run goes

    def _summary(self, summary: RunSummary) -> None:
        previous = self.current
        self.current = summary
        if previous is None or previous.checkpoint_step != summary.checkpoint_step or previous.state != summary.state:
            self.changed.emit()
            if summary.model_path is not None:
                self.model_available.emit(str(summary.model_path))

    def _ended(self, summary: RunSummary) -> None:
        self.current = summary
        if summary.state == "failed":
            resume = (" Resume continues it." if summary.study is not None else
                      f" Resume continues from the checkpoint of step {summary.checkpoint_step}.")
            self.error.emit(f"{summary.name} failed: {summary.message}{resume if summary.can_resume else ''}")
        elif summary.study is not None:
            self.info.emit(study_outcome(summary, summary.study))
        elif summary.state == "stopped":
            self.info.emit(f"{summary.name} stopped at step {summary.checkpoint_step}: checkpoint saved; Resume continues it.")
        else:
            self.info.emit(f"{summary.name} finished at step {summary.step}.")
        if summary.model_path is not None:
            self.model_available.emit(str(summary.model_path))
        self.ended.emit(summary)
        self.changed.emit()


def study_outcome(summary: RunSummary, study: StudyProgress) -> str:
    """How an ablation that ended (not failed) ended, for the panel's message line."""
    if summary.state != "stopped":
        return f"{summary.name}: the ablation has finished; its report is in the Ablation report tab."
    variant = study.variant
    where = (f"before {study.describe()}" if variant.state == "new" else
             f"in {study.describe()} at step {variant.checkpoint_step} (checkpoint saved)")
    report = (" The Ablation report tab shows the variants trained so far."
              if (summary.run_dir / "report.md").is_file() else "")
    return (f"{summary.name}: the ablation stopped {where}; not run yet: {', '.join(study.not_run) or 'none'}. "
            f"Resume continues it.{report}")
