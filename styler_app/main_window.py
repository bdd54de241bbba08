"""The main window "Styler": wires the panes to the settings and the engine worker.

Widgets hold presentation state only; every engine call goes through ``self.worker`` as a
job, and results come back as signals. Nothing here imports torch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QThreadPool, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.image_io import IMAGE_SUFFIXES, is_image_path
from styler_app.dialogs.first_run import FirstRunDialog, MissingModel
from styler_app.dialogs.settings_dialog import SettingsDialog
from styler_app.dialogs.system_info import SystemInfoDialog, format_environment
from styler_app.images import mask_to_qimage, qimage_to_mask
from styler_app.jobs import BatchJob, PreviewJob, SaveJob, SaveSelectionJob
from styler_app.logs import log_folder
from styler_app.mask_edits import MaskEdits
from styler_app.resources import sample_styles
from styler_app.session import EngineConfig, EngineSession, PreviewResult, RenderRequest
from styler_app.settings import AppSettings
from styler_app.widgets.browser import BrowserPane
from styler_app.widgets.history import HistoryStrip, Snapshot
from styler_app.widgets.jobs_panel import JobsPanel
from styler_app.widgets.preview_pane import PreviewPane
from styler_app.widgets.prompt import PromptPanel
from styler_app.widgets.styles import StylePanel, image_paths_from
from styler_app.worker import EngineWorker, FunctionJob, JobContext

# File dialogs offer exactly the formats the engine reads.
IMAGE_FILTER = "Images (" + " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES)) + ")"

log = logging.getLogger(__name__)
PREVIEW_DEBOUNCE_MS = 350
JOBS_DOCK_HEIGHT = 170  # the Jobs tab's height until the person resizes it


def default_session_factory(settings: AppSettings) -> Callable[[], EngineSession]:
    config = EngineConfig(model_path=settings.model_path or None, device=settings.device, precision=settings.precision)
    return lambda: EngineSession(config)


def output_name(template: str, content: Path, style: Path, prompts: tuple[str, ...], index: int = 1) -> str:
    """The file name for one saved result (same fields as ``styler batch --name``)."""
    fields = {"stem": content.stem, "ext": content.suffix, "style": style.stem, "prompt": "-".join(prompts) or "all", "index": index}
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return f"{content.stem}.styled{content.suffix}"


def selection_destinations(template: str, contents: list[Path], style: Path, prompts: tuple[str, ...], folder: Path) -> list[Path]:
    """Where each selected photo is saved in ``folder``: the name template, with " (2)"…
    added where two photos (e.g. from different folders) would get the same name."""
    taken: set[str] = set()
    destinations = []
    for index, content in enumerate(contents, start=1):
        name = Path(output_name(template, content, style, prompts, index))
        candidate, copy = name.name, 2
        while candidate.lower() in taken:
            candidate, copy = f"{name.stem} ({copy}){name.suffix}", copy + 1
        taken.add(candidate.lower())
        destinations.append(folder / candidate)
    return destinations


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings | None = None,
        session_factory: Callable[[], object] | None = None,
        check_models: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Styler")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.environment: dict = {}
        self.pool = QThreadPool(self)  # thumbnails; its own pool so closing can wait for it
        self.pool.setMaxThreadCount(2)
        self.worker = EngineWorker(session_factory or default_session_factory(self.settings), self)
        self._check_models = check_models
        self._preview_job: int | None = None
        self._prompt_masks: dict[str, np.ndarray | None] = {}
        self._last_preview: PreviewResult | None = None
        self._first_run: FirstRunDialog | None = None
        self._install_jobs: dict[int, str] = {}
        self.mask_edits = MaskEdits(self)

        self._build_panes()
        self._build_menus()
        self._build_status_bar()
        self._connect_worker()
        self._restore_window()
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DEBOUNCE_MS)
        self._preview_timer.timeout.connect(self.preview_now)

    # ------------------------------------------------------------------ building

    def _build_panes(self) -> None:
        self.browser = BrowserPane(self.pool)
        self.preview = PreviewPane()
        self.prompt = PromptPanel()
        self.styles = StylePanel(sample_styles(), [Path(p) for p in self.settings.user_styles], self.pool)
        self.styles.setAcceptDrops(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.prompt)
        right_layout.addWidget(self.styles, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.preview)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 660, 320])
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

        self.jobs = JobsPanel()
        self.jobs_dock = QDockWidget("Jobs", self)
        self.jobs_dock.setObjectName("jobs")
        self.jobs_dock.setWidget(self.jobs)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.jobs_dock)
        self.history = HistoryStrip()
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("history")
        self.history_dock.setWidget(self.history)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.history_dock)
        self.tabifyDockWidget(self.history_dock, self.jobs_dock)
        # The tabs name the docks, so their title bars would only take height from the preview.
        self.setTabPosition(Qt.DockWidgetArea.BottomDockWidgetArea, QTabWidget.TabPosition.North)
        self.setDocumentMode(True)
        for dock in (self.history_dock, self.jobs_dock):
            dock.setTitleBarWidget(QWidget())
        self._jobs_height = JOBS_DOCK_HEIGHT
        self._bottom_tab = "history"
        for name, dock in (("history", self.history_dock), ("jobs", self.jobs_dock)):
            dock.visibilityChanged.connect(lambda shown, name=name: shown and self._bottom_tab_shown(name))
        self.history_dock.raise_()

        self.browser.current_changed.connect(self._content_changed)
        self.browser.folder_chosen.connect(self._folder_opened)
        self.browser.stylize_folder_requested.connect(lambda folder: self.ask_stylize_folder(Path(folder)))
        self.prompt.changed.connect(self.schedule_preview)
        self.styles.changed.connect(self.schedule_preview)
        self.styles.add_button.clicked.connect(self._add_style_dialog)
        self.styles.user_styles_changed.connect(self._persist_user_styles)
        self.preview.canvas.stroke_finished.connect(self._stroke_finished)
        self.preview.reset_mask.clicked.connect(self.reset_mask)
        self.mask_edits.changed.connect(self._mask_changed)
        self.jobs.cancel_requested.connect(self.worker.cancel)
        self.history.restore_requested.connect(self.restore_snapshot)

    def _bottom_tab_shown(self, name: str) -> None:
        """The bottom docks share one tab area: fit it to the History strip while that tab is
        up, and give the Jobs tab back the height it had (or the person gave it)."""
        if name == self._bottom_tab:
            return
        tabs = self._bottom_tab_bar_height()  # resizeDocks sizes the area, tab bar included
        if name == "history":
            if self.jobs_dock.height() > self.history.strip_height + 10:
                self._jobs_height = self.jobs_dock.height() + tabs
            self.resizeDocks([self.history_dock], [self.history.strip_height + tabs], Qt.Orientation.Vertical)
        else:
            self.resizeDocks([self.jobs_dock], [self._jobs_height], Qt.Orientation.Vertical)
        self._bottom_tab = name

    def _bottom_tab_bar_height(self) -> int:
        for bar in self.findChildren(QTabBar):
            if bar.isVisible() and bar.count() and bar.tabText(0) in ("History", "Jobs"):
                return bar.height()
        return 0

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._bottom_tab == "history" and not self.settings.window_state("state"):
            self._bottom_tab = ""  # first start: fit the area to the strip once laid out
            QTimer.singleShot(0, self, self._fit_history_tab)  # with self as context: dropped if closed first

    def _fit_history_tab(self) -> None:
        self._bottom_tab_shown("history")

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Open folder…", self._open_folder_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu("Recent folders")
        self._action(file, "&Add photos…", self._add_photos_dialog, "Ctrl+Shift+O")
        file.addSeparator()
        self.save_action = self._action(file, "&Save result…", self.save_dialog, QKeySequence.StandardKey.Save,
                                        "Render the current photo (or each selected one) at full resolution and save it")
        self.batch_action = self._action(file, "Stylize &folder…", self._stylize_folder_dialog, "Ctrl+Shift+R",
                                         "Render every photo of a folder (resumable)")
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        undo = self.mask_edits.group.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.mask_edits.group.createRedoAction(self, "Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addAction(undo)
        edit.addAction(redo)
        self._action(edit, "Reset mask to prompt", self.reset_mask, "Ctrl+Shift+M")
        edit.addSeparator()
        self._action(edit, "&Settings…", self.settings_dialog, QKeySequence.StandardKey.Preferences)

        view = bar.addMenu("&View")
        canvas = self.preview.canvas
        self._action(view, "Zoom to &fit", canvas.zoom_fit, "Ctrl+0")
        self._action(view, "Zoom &100%", lambda: canvas.zoom_to(1.0), "Ctrl+1")
        self._action(view, "Zoom &in", lambda: canvas.zoom_by(1), QKeySequence.StandardKey.ZoomIn)
        self._action(view, "Zoom &out", lambda: canvas.zoom_by(-1), QKeySequence.StandardKey.ZoomOut)
        self._action(view, "Show &mask", self.preview.show_mask.toggle, "M")
        self._action(view, "&Brush: add", lambda: self.preview.brush_add.setChecked(True), "B")
        self._action(view, "Brush: &erase", lambda: self.preview.brush_erase.setChecked(True), "E")
        view.addSeparator()
        view.addAction(self.jobs_dock.toggleViewAction())
        view.addAction(self.history_dock.toggleViewAction())

        run = bar.addMenu("&Run")
        self._action(run, "&Preview now", self.preview_now, "F5")
        self._action(run, "&Cancel", self.cancel_current, "Esc", "Cancel the preview and the selected job")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Models…", self.show_first_run)
        self._action(help_menu, "&System info…", self.system_info_dialog)
        self._action(help_menu, "Open &log folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_folder()))))
        self._refresh_recent()

    def _build_status_bar(self) -> None:
        self.device_label = QLabel("Engine starting…")
        self.model_label = QLabel("")
        self.memory_label = QLabel("")
        status = self.statusBar()
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.memory_label)
        status.addPermanentWidget(self.device_label)

    def _connect_worker(self) -> None:
        w = self.worker
        w.started.connect(self._job_started)
        w.progress.connect(self._job_progress)
        w.result.connect(self._job_result)
        w.error.connect(self._job_error)
        w.item_failed.connect(self.jobs.on_item_failed)
        w.finished.connect(self._job_finished)
        w.status.connect(self._show_status)
        w.environment.connect(self._environment_ready)

    def start(self) -> None:
        """Start the engine thread (after the window is shown, so torch loads behind it)."""
        self.worker.start()
        if self._check_models:
            self.worker.submit(FunctionJob("check models", _missing_models))

    # ------------------------------------------------------------------ browsing

    def open_folder(self, folder: Path) -> None:
        self.browser.open_folder(folder)

    def _folder_opened(self, folder: str) -> None:
        self.settings.add_recent_folder(folder)
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.settings.recent_folders:
            self.recent_menu.addAction(folder, lambda folder=folder: self.open_folder(Path(folder)))
        self.recent_menu.setEnabled(bool(self.settings.recent_folders))

    def _open_folder_dialog(self) -> None:
        start = self.settings.recent_folders[0] if self.settings.recent_folders else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open folder", start)
        if folder:
            self.open_folder(Path(folder))

    def _add_photos_dialog(self) -> None:
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

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
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

    # ------------------------------------------------------------------ preview

    def _content_changed(self, path: Path | None) -> None:
        if path is not None:
            self.mask_edits.activate(str(path))
        self.schedule_preview()

    def current_request(self, with_mask_edit: bool = True) -> RenderRequest | None:
        content = self.browser.current_path()
        return None if content is None else self.request_for(content, with_mask_edit)

    def request_for(self, content: Path, with_mask_edit: bool = True) -> RenderRequest | None:
        """What the controls say for ``content`` (its own brushed mask included); None
        without a style."""
        style = self.styles.current_style()
        if style is None:
            return None
        prompt = self.prompt.state()
        mask = self.mask_edits.mask(str(content)) if with_mask_edit else None
        return RenderRequest(
            content=content,
            style=style,
            strength=float(self.styles.strength.value()),
            preserve_color=self.styles.preserve_color.isChecked(),
            prompts=prompt.prompts,
            negatives=prompt.negatives,
            invert=prompt.invert,
            threshold=prompt.threshold,
            feather=prompt.feather,
            mask_edit=qimage_to_mask(mask) if mask is not None else None,
        )

    def schedule_preview(self) -> None:
        self._preview_timer.start()

    def preview_now(self) -> None:
        self._preview_timer.stop()
        request = self.current_request()
        if request is None:
            hint = "Pick a photo" if self.browser.current_path() is None else "Pick a style"
            self.preview.canvas.placeholder = f"{hint} to see a preview"
            self.preview.canvas.update()
            return
        self._preview_job = self.worker.submit(PreviewJob(request, self.settings.preview_size))
        self.preview.canvas.set_status("Rendering…")

    def cancel_current(self) -> None:
        if self._preview_job is not None:
            self.worker.cancel(self._preview_job)
        selected = self.jobs._selected_job()
        if selected is not None:
            self.worker.cancel(selected)

    def _show_preview(self, result: PreviewResult) -> None:
        self._last_preview = result
        key = str(result.request.content)
        if result.request.mask_edit is None:
            self._prompt_masks[key] = result.mask
        self.preview.canvas.set_images(result.original, result.result)
        self._update_canvas_mask(key, result.original.size())
        note = "; ".join(result.notes)
        self.preview.canvas.set_status(note)
        self.statusBar().showMessage(f"Preview in {result.seconds:.1f} s" + (f" — {note}" if note else ""), 5000)
        request = result.request
        prompt = self.prompt.state()
        snapshot = Snapshot(request.content, request.style, prompt, request.strength, request.preserve_color)
        self.history.add(snapshot, result.result)

    def _update_canvas_mask(self, key: str, size: QSize) -> None:
        edited = self.mask_edits.mask(key)
        if edited is not None:
            self.preview.canvas.set_mask(edited)
            return
        prompt_mask = self._prompt_masks.get(key)
        if prompt_mask is None:  # "everything": a full mask the brush can carve into
            prompt_mask = np.ones((size.height(), size.width()), dtype=np.float32)
        self.preview.canvas.set_mask(mask_to_qimage(prompt_mask))

    def _stroke_finished(self, mask: QImage) -> None:
        content = self.browser.current_path()
        if content is not None:
            self.mask_edits.stroke(str(content), mask)

    def _mask_changed(self, image: str) -> None:
        current = self.browser.current_path()
        if current is not None and str(current) == image and self._last_preview is not None:
            self._update_canvas_mask(image, self._last_preview.original.size())
            self.schedule_preview()

    def reset_mask(self) -> None:
        content = self.browser.current_path()
        if content is not None:
            self.mask_edits.reset(str(content))

    def restore_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.content in self.browser.model.paths():
            self.browser.select_row(self.browser.model.paths().index(snapshot.content))
        else:
            self.browser.add_dropped([snapshot.content])
            self.browser.select_row(self.browser.model.paths().index(snapshot.content))
        self.styles.select_style(snapshot.style)
        self.styles.strength.setValue(snapshot.strength)
        self.styles.preserve_color.setChecked(snapshot.preserve_color)
        self.prompt.restore(snapshot.prompt)

    # ------------------------------------------------------------------ saving and batches

    def save_dialog(self) -> None:
        selected = self.browser.selected_paths()
        if len(selected) > 1:
            self.save_selection_dialog(selected)
            return
        request = self.current_request()
        if request is None:
            QMessageBox.information(self, "Save result", "Pick a photo and a style first.")
            return
        folder = Path(self.settings.output_folder) if self.settings.output_folder else request.content.parent
        suggested = folder / output_name(self.settings.name_template, request.content, request.style, request.prompts)
        path, _ = QFileDialog.getSaveFileName(self, "Save result", str(suggested), IMAGE_FILTER)
        if path:
            self.save_to(Path(path))

    def save_to(self, destination: Path) -> int | None:
        """Render the current photo at full resolution (with its brushed mask) into ``destination``."""
        request = self.current_request()
        if request is None:
            return None
        job_id = self.worker.submit(SaveJob(request, destination))
        self.jobs.add_job(job_id, f"Save {destination.name}", destination.parent)
        self.jobs_dock.raise_()
        return job_id

    def save_selection_dialog(self, contents: list[Path]) -> None:
        style = self.styles.current_style()
        if style is None:
            QMessageBox.information(self, "Save results", "Pick a style first.")
            return
        start = self.settings.output_folder or str(contents[0].parent)
        chosen = QFileDialog.getExistingDirectory(self, f"Save {len(contents)} results into which folder?", start)
        if not chosen:
            return
        destinations = selection_destinations(self.settings.name_template, contents, style, self.prompt.state().prompts, Path(chosen))
        existing = [d for d in destinations if d.exists()]
        if existing:
            answer = QMessageBox.question(
                self, "Replace files?",
                f"{len(existing)} of these files exist already in {chosen} ({existing[0].name}…). Replace them?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.save_selection(contents, Path(chosen))

    def save_selection(self, contents: list[Path], folder: Path) -> int | None:
        """Render each of ``contents`` at full resolution (each with its own brushed mask and
        the current style, region and sliders) into ``folder``, as one job."""
        requests = [self.request_for(content) for content in contents]
        if not requests or requests[0] is None:
            return None
        destinations = selection_destinations(self.settings.name_template, contents, requests[0].style, requests[0].prompts, folder)
        job = SaveSelectionJob(list(zip(requests, destinations)), folder)  # type: ignore[arg-type]
        job_id = self.worker.submit(job)
        self.jobs.add_job(job_id, job.title, folder)
        self.jobs_dock.raise_()
        return job_id

    def _stylize_folder_dialog(self) -> None:
        folder = self.browser.folder
        start = str(folder) if folder else str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Stylize which folder?", start)
        if chosen:
            self.ask_stylize_folder(Path(chosen))

    def ask_stylize_folder(self, folder: Path) -> None:
        default = Path(self.settings.output_folder) if self.settings.output_folder else folder / "styled"
        output = QFileDialog.getExistingDirectory(self, f"Output folder for {folder.name}", str(default.parent))
        if output:
            self.stylize_folder(folder, Path(output))

    def stylize_folder(self, folder: Path, output: Path) -> int | None:
        """Queue a batch job: every photo of ``folder`` with the current style and region."""
        request = self.current_request(with_mask_edit=False)
        style = self.styles.current_style()
        if style is None:
            QMessageBox.information(self, "Stylize folder", "Pick a style first.")
            return None
        if request is None:  # no photo selected: the folder's own photos are what matters
            prompt = self.prompt.state()
            request = RenderRequest(folder, style, float(self.styles.strength.value()), self.styles.preserve_color.isChecked(),
                                    prompt.prompts, prompt.negatives, prompt.invert, prompt.threshold, prompt.feather)
        job = BatchJob(folder, output, request, self.settings.name_template)
        job_id = self.worker.submit(job)
        self.jobs.add_job(job_id, job.title, output)
        self.jobs_dock.raise_()
        return job_id

    # ------------------------------------------------------------------ worker signals

    def _job_started(self, job_id: int, kind: str) -> None:
        self.jobs.on_started(job_id)
        if job_id == self._preview_job:
            self.preview.progress.setValue(0)
            self.preview.progress.show()

    def _job_progress(self, job_id: int, fraction: float, message: str) -> None:
        if job_id == self._preview_job:
            self.preview.progress.setValue(int(fraction * 1000))
            self.preview.canvas.set_status(f"Rendering… {message}" if message else "Rendering…")
        elif job_id in self._install_jobs and self._first_run is not None:
            self._first_run.set_progress(self._install_jobs[job_id], fraction, message)
        else:
            self.jobs.on_progress(job_id, fraction, message)

    def _job_result(self, job_id: int, payload: object) -> None:
        if job_id == self._preview_job and isinstance(payload, PreviewResult):
            self._show_preview(payload)
        elif job_id in self._install_jobs:
            name = self._install_jobs[job_id]
            if self._first_run is not None:
                self._first_run.set_installed(name)
                self._first_run.show_message(f"{payload} installed.")
            self.worker.reconfigure(default_session_factory(self.settings))
            self.schedule_preview()
        elif isinstance(payload, list) and all(isinstance(m, MissingModel) for m in payload):
            self._models_checked(payload)
        elif self.jobs.has_job(job_id):
            self.statusBar().showMessage(f"Finished: {payload}", 8000)

    def _job_error(self, job_id: int, message: str) -> None:
        if job_id == self._preview_job:
            self.preview.canvas.set_status("")
            self.preview.canvas.placeholder = message
            self.preview.canvas.update()
            self.statusBar().showMessage(message, 15000)
        elif job_id in self._install_jobs and self._first_run is not None:
            self._first_run.show_message(message)
        else:
            self.jobs.on_error(job_id, message)
            self.statusBar().showMessage(message, 15000)

    def _job_finished(self, job_id: int, state: str) -> None:
        self.jobs.on_finished(job_id, state)
        if job_id == self._preview_job:
            self.preview.progress.hide()
            if state == "cancelled":
                self.preview.canvas.set_status("")
        if job_id in self._install_jobs:
            name = self._install_jobs.pop(job_id)
            if self._first_run is not None:
                self._first_run.set_busy(name, False)

    def _show_status(self, status: dict) -> None:
        if "device" in status:
            self.device_label.setText(status["device"])
        self.model_label.setText(f"Model: {status.get('model', '—')}")
        self.memory_label.setText(status.get("memory", ""))

    def _environment_ready(self, environment: dict) -> None:
        self.environment = environment
        if "error" in environment:
            self.device_label.setText("Engine unavailable")
            return
        wanted = self.settings.device
        names = dict(environment.get("devices", []))
        self.device_label.setText(names.get(wanted, f"Device: {wanted}"))
        self.model_label.setText("Model: not loaded yet")

    # ------------------------------------------------------------------ models (first run)

    def _models_checked(self, missing: list[MissingModel]) -> None:
        if missing and any(m.kind == "style" for m in missing):
            self.show_first_run(missing)

    def show_first_run(self, missing: list[MissingModel] | None = None) -> None:
        if missing is None:
            self.worker.submit(FunctionJob("check models", lambda context: _missing_models(context) or []))
            return
        if self._first_run is None:
            self._first_run = FirstRunDialog(missing, self)
            self._first_run.install_requested.connect(self._install_model)
            self._first_run.import_requested.connect(self._import_model)
            self._first_run.cancel_requested.connect(self._cancel_install)
        self._first_run.show()
        self._first_run.raise_()

    def _install_model(self, name: str) -> None:
        job_id = self.worker.submit(FunctionJob(f"install {name}", lambda context: _install(name, context)))
        self._install_jobs[job_id] = name
        if self._first_run is not None:
            self._first_run.set_busy(name, True)

    def _cancel_install(self, name: str) -> None:
        for job_id, job_name in self._install_jobs.items():
            if job_name == name:
                self.worker.cancel(job_id)

    def _import_model(self, path: str) -> None:
        job_id = self.worker.submit(FunctionJob(f"import {path}", lambda context: _import(path)))
        self._install_jobs[job_id] = f"import:{path}"

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
        self.worker.reconfigure(default_session_factory(self.settings))
        self.schedule_preview()

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
        self._preview_timer.stop()
        self._save_window()
        if not self.worker.stop():
            log.warning("engine thread did not stop in time")
        self.pool.waitForDone(5000)


# ---------------------------------------------------------------------- worker-side helpers


def _missing_models(context: JobContext | None = None) -> list[MissingModel]:
    from engine.models.store import missing_required_models
    from engine.models.registry import human_size

    return [
        MissingModel(e.name, e.kind, e.title, f"{human_size(e.download_size)} download", e.license, e.manual)
        for e in missing_required_models()
    ]


def _install(name: str, context: JobContext) -> str:
    from engine.models.install import install
    from engine.models.registry import human_size

    def progress(done: int, total: int | None, rate: float) -> None:
        fraction = done / total if total else 0.0
        text = f"{human_size(done)} of {human_size(total)} · {human_size(rate)}/s" if total else human_size(done)
        context.progress(min(fraction, 0.999), text)

    return install(name, progress, context.cancelled).name


def _import(path: str) -> str:
    from engine.models.install import import_path

    return import_path(path).name
