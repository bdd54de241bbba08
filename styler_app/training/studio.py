"""The Training studio inside the main window: the Training tab, the model chooser beside
the style gallery, *Preview with this checkpoint*, the compare view, and what closing the
window does to a run that is still going. The window creates one and forwards four events
(environment ready, started, closing, shut down); everything else is wired here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QScrollArea

from styler_app.job_protocol import JobContext
from styler_app.requests import PreviewResult, RenderRequest
from styler_app.session import EngineConfig, EngineSession
from styler_app.training.close_choice import CloseChoice, ask_about_live_run
from styler_app.training.compare_view import CompareView
from styler_app.training.model_chooser import ModelChooser, installed_style_models
from styler_app.training.panel import TrainingPanel, default_runs_root
from styler_app.training.run_process import request_stop

if TYPE_CHECKING:
    from styler_app.main_window import MainWindow

COMPARE_SIZE = 512  # longer side of each compared render


@dataclass
class CompareJob:
    """Renders one request with another model, in a session of its own (the worker's own
    session and its caches stay as they are)."""

    request: RenderRequest
    config: EngineConfig
    size: int
    kind: Literal["task"] = "task"

    @property
    def title(self) -> str:
        return f"Compare with {Path(self.config.model_path or '').parent.name}"

    def run(self, context: JobContext) -> PreviewResult:
        session = EngineSession(self.config)
        try:
            return session.preview(self.request, self.size, context)
        finally:
            session.close()


class TrainingStudio(QObject):
    def __init__(self, window: MainWindow, chooser: ModelChooser) -> None:
        super().__init__(window)
        self.window = window
        self.chooser = chooser
        self.panel = TrainingPanel(default_runs_root(), gallery_styles=window.styles.model.paths,
                                   settings=window.settings)
        # In a scroll area: the panel's size must not raise the whole window's minimum size.
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        self.dock = window.docks.add("training", "Training", scroll)
        self._compares: list[CompareView] = []
        self.refresh_models()
        self._set_start_models()
        chooser.model_chosen.connect(self.use_model)
        self.panel.preview_requested.connect(self.use_model)
        self.panel.model_available.connect(lambda _: self.refresh_models())
        self.panel.compare_requested.connect(self.compare)

    def runs_root(self) -> Path:
        return Path(self.panel.form.runs_root.text()).expanduser()

    def refresh_models(self) -> None:
        self.chooser.refresh(self.runs_root(), self.window.settings.model_path)

    def _set_start_models(self) -> None:
        models, default = installed_style_models()
        default_path = next((path for name, path in models if name == default), None)
        self.panel.form.set_start_models([(f"{name} (fine-tune)", path) for name, path in models], default_path)

    def use_model(self, path: str) -> None:
        """Render with ``path`` from now on ("" = the installed default); the choice persists."""
        if self.chooser.chosen() != path:
            self.chooser.select(path)
        self.window.settings.model_path = path
        self.window.settings.sync()
        self.window.engine_settings_changed()

    def environment_ready(self, environment: dict[str, Any]) -> None:
        self.panel.form.set_devices(list(environment.get("devices", [])))

    def started(self) -> None:
        run = self.panel.reattach()
        if run is not None:
            self.dock.raise_()

    def compare(self, models: list[str]) -> CompareView | None:
        request = self.window.choices.current_request()
        if request is None:
            QMessageBox.information(self.window, "Compare models", "Pick a photo and a style first.")
            return None
        view = CompareView(models, self.window)
        self._compares.append(view)
        view.finished.connect(lambda _: self._compares.remove(view))
        settings = self.window.settings
        base = EngineConfig(device=settings.device, precision=settings.precision)
        for model in models:
            job = CompareJob(request, replace(base, model_path=model), COMPARE_SIZE)
            self.window.worker.submit(job, on_result=partial(self._compared, view, model),
                                      on_error=partial(view.show_error, model))
        view.show()
        return view

    @staticmethod
    def _compared(view: CompareView, model: str, result: PreviewResult) -> None:
        view.show_result(model, result.result)

    def may_close(self) -> bool:
        """Asks what to do with a run that is still going; False = the person cancelled."""
        live = self.panel.live_run()
        if live is None:
            return True
        choice = ask_about_live_run(self.window, live)
        if choice is CloseChoice.CANCEL:
            return False
        if choice is CloseChoice.STOP:
            request_stop(live)
        return True

    def shutdown(self) -> None:
        self.panel.shutdown()
