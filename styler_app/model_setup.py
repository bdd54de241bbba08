"""Getting the models in place from the window: the check at start-up, the first-run
dialog, and its download and import jobs."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from styler_app.dialogs.first_run import FirstRunDialog
from styler_app.job_protocol import FunctionJob, JobState
from styler_app.jobs import session_of
from styler_app.requests import MissingModel
from styler_app.worker import EngineWorker


class ModelSetup(QObject):
    """Signals:
    installed(str): a model was installed (the engine should be rebuilt to use it).
    """

    installed = Signal(str)

    def __init__(self, worker: EngineWorker, parent: QWidget) -> None:
        super().__init__(parent)
        self.worker = worker
        self.window = parent
        self.dialog: FirstRunDialog | None = None
        self._installing: dict[int, str] = {}  # job id -> model name

    def check(self) -> None:
        """Look for missing models; show the dialog when no style model is installed."""
        self.worker.submit(FunctionJob("check models", lambda context: session_of(context).missing_models()),
                           on_result=self._checked)

    def show_dialog(self, missing: list[MissingModel] | None = None) -> None:
        """Help ▸ Models…: the dialog listing ``missing`` (None: whatever is missing now)."""
        if missing is None:
            self.worker.submit(FunctionJob("check models", lambda context: session_of(context).missing_models()),
                               on_result=self.show_dialog)
            return
        if self.dialog is None:
            self.dialog = FirstRunDialog(missing, self.window)
            self.dialog.install_requested.connect(self._install)
            self.dialog.import_requested.connect(self._import)
            self.dialog.cancel_requested.connect(self._cancel)
        self.dialog.show()
        self.dialog.raise_()

    def _checked(self, missing: list[MissingModel]) -> None:
        if any(m.kind == "style" for m in missing):
            self.show_dialog(missing)

    def _install(self, name: str) -> None:
        job = FunctionJob(f"install {name}", lambda context: session_of(context).install_model(name, context))
        self._submit(job, name)
        if self.dialog is not None:
            self.dialog.set_busy(name, True)

    def _import(self, path: str) -> None:
        self._submit(FunctionJob(f"import {path}", lambda context: session_of(context).import_model(path)), f"import:{path}")

    def _submit(self, job: FunctionJob[str], name: str) -> None:
        def progress(fraction: float, message: str) -> None:
            if self.dialog is not None:
                self.dialog.set_progress(name, fraction, message)

        def done(installed: str) -> None:
            if self.dialog is not None:
                self.dialog.set_installed(name)
                self.dialog.show_message(f"{installed} installed.")
            self.installed.emit(installed)

        def failed(message: str) -> None:
            if self.dialog is not None:
                self.dialog.show_message(message)

        def finished(state: JobState) -> None:
            self._installing.pop(job_id, None)
            if self.dialog is not None:
                self.dialog.set_busy(name, False)

        job_id = self.worker.submit(job, on_progress=progress, on_result=done, on_error=failed, on_finished=finished)
        self._installing[job_id] = name

    def _cancel(self, name: str) -> None:
        for job_id, installing in self._installing.items():
            if installing == name:
                self.worker.cancel(job_id)
