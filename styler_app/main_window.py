"""The main window "Styler": lays out the panes and docks, and hands each job to its part.

The parts, one file each: ``preview_controller`` (the live preview and the brushed mask),
``saving`` (full-size saves and folder jobs), ``model_setup`` (first run), ``menus``,
``bottom_docks`` (History, Jobs, and new tabs). The render settings live in one
``RenderSettings`` the panels bind to. Every engine call is a job on ``self.worker`` whose
answer comes back to the callback that asked. Nothing here imports torch."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QVBoxLayout, QWidget

from engine.image_files import is_image_path
from engine.resources import sample_styles
from styler_app.bottom_docks import BottomDocks
from styler_app.choices import Choices
from styler_app.dialogs.settings_dialog import SettingsDialog
from styler_app.dialogs.system_info import SystemInfoDialog, format_environment
from styler_app.job_protocol import EngineSessionLike
from styler_app.logs import log_folder
from styler_app.mask_edits import MaskEdits
from styler_app.menus import build_menus
from styler_app.model_setup import ModelSetup
from styler_app.preview_controller import PreviewController
from styler_app.render_settings import RenderSettings
from styler_app.requests import PreviewResult
from styler_app.saving import IMAGE_FILTER, Saving
from styler_app.session import EngineConfig, EngineSession
from styler_app.settings import AppSettings
from styler_app.style_prefetch import StylePrefetcher
from styler_app.training.model_chooser import ModelChooser
from styler_app.training.studio import TrainingStudio
from styler_app.widgets.browser import BrowserPane
from styler_app.widgets.history import HistoryStrip, Snapshot
from styler_app.widgets.jobs_panel import JobsPanel
from styler_app.widgets.preview_pane import PreviewPane
from styler_app.widgets.prompt import PromptPanel
from styler_app.widgets.styles import StylePanel, image_paths_from
from styler_app.worker import EngineWorker

log = logging.getLogger(__name__)


def default_session_factory(settings: AppSettings) -> Callable[[], EngineSession]:
    config = EngineConfig(model_path=settings.model_path or None, device=settings.device, precision=settings.precision)
    return lambda: EngineSession(config)


class MainWindow(QMainWindow):
    # Set by menus.build_menus.
    recent_menu: QMenu
    save_action: QAction
    batch_action: QAction

    def __init__(
        self,
        settings: AppSettings | None = None,
        session_factory: Callable[[], EngineSessionLike] | None = None,
        check_models: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Styler")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.environment: dict[str, Any] = {}
        self.pool = QThreadPool(self)  # thumbnails; its own pool so closing can wait for it
        self.pool.setMaxThreadCount(2)
        self.worker = EngineWorker(session_factory or default_session_factory(self.settings), self)
        self.render_settings = RenderSettings(self)
        self.mask_edits = MaskEdits(self)
        self._check_models = check_models

        self._build_panes()
        self._build_docks()
        self.choices = Choices(self.browser, self.styles, self.render_settings, self.mask_edits)
        show = self.statusBar().showMessage
        self.previews = PreviewController(
            self.worker, self.preview, self.choices, self.mask_edits, lambda: self.settings.preview_size, show, self
        )
        self.prefetch = StylePrefetcher(self.worker, self.styles.model.paths, self)
        self.saving = Saving(self, self.worker, self.choices, self.settings, self.jobs, self.docks.docks["jobs"], show)
        self.models = ModelSetup(self.worker, self)
        self.training = TrainingStudio(self, self.model_chooser)
        build_menus(self)
        self._refresh_recent()
        self._build_status_bar()
        self._connect()
        self._restore_window()

    # ------------------------------------------------------------------ building

    def _build_panes(self) -> None:
        self.browser = BrowserPane(self.pool)
        self.preview = PreviewPane()
        self.prompt = PromptPanel(self.render_settings)
        self.styles = StylePanel(sample_styles(), [Path(p) for p in self.settings.user_styles], self.pool, self.render_settings)
        self.styles.setAcceptDrops(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.prompt)
        self.model_chooser = ModelChooser()
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.model_chooser, 1)
        right_layout.addLayout(model_row)
        right_layout.addWidget(self.styles, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.preview)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 660, 320])
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

    def _build_docks(self) -> None:
        """The bottom tabs. A new panel (e.g. training) is one more ``self.docks.add``."""
        self.history = HistoryStrip()
        self.jobs = JobsPanel()
        self.docks = BottomDocks(self, compact="history", compact_height=self.history.strip_height)
        self.docks.add("history", "History", self.history)
        self.docks.add("jobs", "Jobs", self.jobs)
        self.docks.raise_("history")

    def _build_status_bar(self) -> None:
        self.device_label = QLabel("Engine starting…")
        self.model_label = QLabel("")
        self.memory_label = QLabel("")
        status = self.statusBar()
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.memory_label)
        status.addPermanentWidget(self.device_label)

    def _connect(self) -> None:
        self.browser.current_changed.connect(self._content_changed)
        self.browser.folder_chosen.connect(self._folder_opened)
        self.browser.stylize_folder_requested.connect(lambda folder: self.saving.ask_stylize_folder(Path(folder)))
        # Whatever changes what a render would produce asks for a fresh preview.
        self.render_settings.changed.connect(self.previews.schedule)
        self.styles.changed.connect(self.previews.schedule)
        self.styles.add_button.clicked.connect(self._add_style_dialog)
        self.styles.user_styles_changed.connect(self._persist_user_styles)
        self.styles.user_styles_changed.connect(lambda _styles: self.prefetch.start())
        strength = self.styles.strength  # dragged: blended pixels at once, the exact render on release
        strength.sliderPressed.connect(self.previews.begin_strength_drag)
        def on_strength(value: float) -> None:
            if strength.isSliderDown():
                self.previews.drag_strength(float(value))

        strength.valueChanged.connect(on_strength)
        strength.sliderReleased.connect(self.previews.end_strength_drag)
        self.previews.shown.connect(self._record_history)
        self.history.restore_requested.connect(self.restore_snapshot)
        def on_model_installed(name: str) -> None:
            self.training.refresh_models()
            self.engine_settings_changed()

        self.models.installed.connect(on_model_installed)
        self.jobs.follow(self.worker)
        self.worker.status.connect(self._show_status)
        self.worker.environment.connect(self._environment_ready)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.settings.window_state("state"):
            self.docks.fit_on_first_show()

    def start(self) -> None:
        """Start the engine thread (after the window is shown, so torch loads behind it)."""
        self.worker.start()
        self.prefetch.start()  # loads the model and encodes the gallery while nothing else runs
        if self._check_models:
            self.models.check()
        self.training.started()

    # ------------------------------------------------------------------ browsing and drops

    def open_folder(self, folder: Path) -> None:
        self.browser.open_folder(folder)

    def open_paths(self, paths: list[Path]) -> None:
        """Photos and folders named at start-up (``styler photo.jpg``, *Open with Styler*):
        a folder is opened like File ▸ Open folder, photos are added and the first shown."""
        folders = [p for p in paths if p.is_dir()]
        if folders:
            self.open_folder(folders[0])
        self.browser.add_dropped([p for p in paths if p not in folders[:1]])

    def _folder_opened(self, folder: str) -> None:
        self.settings.add_recent_folder(folder)
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.settings.recent_folders:
            self.recent_menu.addAction(folder, functools.partial(self.open_folder, Path(folder)))
        self.recent_menu.setEnabled(bool(self.settings.recent_folders))

    def open_folder_dialog(self) -> None:
        start = self.settings.recent_folders[0] if self.settings.recent_folders else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open folder", start)
        if folder:
            self.open_folder(Path(folder))

    def add_photos_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add photos", "", IMAGE_FILTER)
        if files:
            self.browser.add_dropped([Path(f) for f in files])

    def _add_style_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add styles", "", IMAGE_FILTER)
        if files:
            self.styles.add_styles([Path(f) for f in files])

    def _persist_user_styles(self, paths: list[str]) -> None:
        self.settings.user_styles = paths

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if image_paths_from(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Files and folders dropped anywhere but the style gallery go to the content list."""
        paths = image_paths_from(event)
        if not paths:
            return
        event.acceptProposedAction()
        added, folders = self.browser.add_dropped(paths)
        skipped = [p for p in paths if not p.is_dir() and not is_image_path(p)]
        message = f"Added {added} photo{'s' if added != 1 else ''}"
        if skipped:
            message += f"; skipped {len(skipped)} file(s) that are not images ({skipped[0].name}…)"
        self.statusBar().showMessage(message, 6000)

    # ------------------------------------------------------------------ preview and history

    def _content_changed(self, path: Path | None) -> None:
        if path is not None:
            self.mask_edits.activate(str(path))
        self.previews.schedule()

    def _record_history(self, result: PreviewResult) -> None:
        request = result.request
        self.history.add(Snapshot(request.content, request.style, request.options), result.result)

    def restore_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.content not in self.browser.model.paths():
            self.browser.add_dropped([snapshot.content])
        self.browser.select_row(self.browser.model.paths().index(snapshot.content))
        self.styles.select_style(snapshot.style)
        self.render_settings.set_options(snapshot.options)

    def cancel_current(self) -> None:
        """Esc: cancel the preview and the job selected in the Jobs panel."""
        self.previews.cancel()
        selected = self.jobs.selected_job()
        if selected is not None:
            self.worker.cancel(selected)

    # ------------------------------------------------------------------ engine status

    @Slot(dict)
    def _show_status(self, status: dict[str, Any]) -> None:
        if "device" in status:
            self.device_label.setText(status["device"])
        self.model_label.setText(f"Model: {status.get('model', '—')}")
        self.memory_label.setText(status.get("memory", ""))

    @Slot(dict)
    def _environment_ready(self, environment: dict[str, Any]) -> None:
        self.environment = environment
        self.training.environment_ready(environment)
        if "error" in environment:
            self.device_label.setText("Engine unavailable")
            return
        wanted = self.settings.device
        names = dict(environment.get("devices", []))
        self.device_label.setText(names.get(wanted, f"Device: {wanted}"))
        self.model_label.setText("Model: not loaded yet")

    # ------------------------------------------------------------------ dialogs

    def settings_dialog(self) -> None:
        folder = self.environment.get("models_dir", "")
        dialog = SettingsDialog(self.settings, self.environment.get("devices", []), folder, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        dialog.apply()
        chosen = dialog.chosen_models_folder()
        if chosen is not None and str(chosen) != folder:
            from engine.user_settings import MODELS_DIR, set_setting

            set_setting(MODELS_DIR, str(chosen))
            self.environment["models_dir"] = str(chosen)
        self.training.refresh_models()
        self.engine_settings_changed()

    def engine_settings_changed(self) -> None:
        """A new model, device or precision: rebuild the engine and preview with it."""
        self.worker.reconfigure(default_session_factory(self.settings))
        self.previews.schedule()
        self.prefetch.start()

    def system_info_dialog(self) -> None:
        SystemInfoDialog(format_environment(self.environment, str(log_folder())), self).exec()

    # ------------------------------------------------------------------ window state

    def _restore_window(self) -> None:
        geometry = self.settings.window_state("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        state = self.settings.window_state("state")
        if state is not None:
            self.restoreState(state)
        for name, splitter in (("splitter", self.splitter), ("browser_splitter", self.browser.splitter)):
            saved = self.settings.window_state(name)
            if saved is not None:
                splitter.restoreState(saved)

    def _save_window(self) -> None:
        self.settings.set_window_state("geometry", self.saveGeometry())
        self.settings.set_window_state("state", self.saveState())
        self.settings.set_window_state("splitter", self.splitter.saveState())
        self.settings.set_window_state("browser_splitter", self.browser.splitter.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.training.may_close():
            event.ignore()
            return
        running = self.worker.active_jobs()
        if running:
            answer = QMessageBox.question(
                self, "Quit Styler?",
                f"{len(running)} job(s) are still running. Cancel them and quit? "
                "Folder jobs resume where they stopped next time.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save the layout, cancel every job, and wait for the engine and thumbnail threads."""
        self.previews.stop()
        self.prefetch.stop()
        self.training.shutdown()
        self._save_window()
        if not self.worker.stop():
            log.warning("engine thread did not stop in time")
        self.pool.waitForDone(5000)
