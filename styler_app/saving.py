"""Full-size output: File ▸ Save result… (one photo or each selected one) and Stylize
folder… — the dialogs, the jobs they queue, and where the files go."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMessageBox, QWidget

from engine.errors import StylerError
from engine.image_files import IMAGE_SUFFIXES
from engine.naming import output_name
from engine.options import RenderOptions
from styler_app.choices import Choices
from styler_app.jobs import BatchJob, SaveJob, SaveSelectionJob
from styler_app.settings import AppSettings
from styler_app.widgets.jobs_panel import JobsPanel
from styler_app.worker import EngineWorker

# File dialogs offer exactly the formats the engine reads.
IMAGE_FILTER = "Images (" + " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES)) + ")"
ShowMessage = Callable[[str, int], None]
Named = TypeVar("Named")


def selection_destinations(template: str, contents: list[Path], style: Path, options: RenderOptions, folder: Path) -> list[Path]:
    """Where each selected photo is saved in ``folder``: the name template (as in
    ``styler batch --name``), with " (2)"… added where two photos (e.g. from different
    folders) would get the same name."""
    taken: set[str] = set()
    destinations = []
    for index, content in enumerate(contents, start=1):
        name = Path(output_name(template, content, style, options.prompts, options.invert, index))
        candidate, copy = name.name, 2
        while candidate.lower() in taken:
            candidate, copy = f"{name.stem} ({copy}){name.suffix}", copy + 1
        taken.add(candidate.lower())
        destinations.append(folder / candidate)
    return destinations


class Saving(QObject):
    """Queues save and folder jobs on ``worker`` and lists them in the Jobs panel."""

    def __init__(
        self,
        parent: QWidget,
        worker: EngineWorker,
        choices: Choices,
        settings: AppSettings,
        jobs: JobsPanel,
        jobs_dock: QDockWidget,
        show_message: ShowMessage,
    ) -> None:
        super().__init__(parent)
        self.window = parent
        self.worker, self.choices, self.settings = worker, choices, settings
        self.jobs, self.jobs_dock, self._show_message = jobs, jobs_dock, show_message

    def save_dialog(self) -> None:
        selected = self.choices.browser.selected_paths()
        if len(selected) > 1:
            self.save_selection_dialog(selected)
            return
        request = self.choices.current_request()
        if request is None:
            QMessageBox.information(self.window, "Save result", "Pick a photo and a style first.")
            return
        folder = Path(self.settings.output_folder) if self.settings.output_folder else request.content.parent
        options = request.options
        name = self._name(lambda: output_name(self.settings.name_template, request.content, request.style, options.prompts, options.invert))
        if name is None:
            return
        suggested = folder / name
        path, _ = QFileDialog.getSaveFileName(self.window, "Save result", str(suggested), IMAGE_FILTER)
        if path:
            self.save_to(Path(path))

    def save_to(self, destination: Path) -> int | None:
        """Render the current photo at full resolution (with its brushed mask) into ``destination``."""
        request = self.choices.current_request()
        if request is None:
            return None
        return self._queue(SaveJob(request, destination), destination.parent)

    def save_selection_dialog(self, contents: list[Path]) -> None:
        style = self.choices.styles.current_style()
        if style is None:
            QMessageBox.information(self.window, "Save results", "Pick a style first.")
            return
        start = self.settings.output_folder or str(contents[0].parent)
        chosen = QFileDialog.getExistingDirectory(self.window, f"Save {len(contents)} results into which folder?", start)
        if not chosen:
            return
        options = self.choices.settings.options
        destinations = self._name(lambda: selection_destinations(self.settings.name_template, contents, style, options, Path(chosen)))
        if destinations is None:
            return
        existing = [d for d in destinations if d.exists()]
        if existing:
            answer = QMessageBox.question(
                self.window, "Replace files?",
                f"{len(existing)} of these files exist already in {chosen} ({existing[0].name}…). Replace them?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.save_selection(contents, Path(chosen))

    def save_selection(self, contents: list[Path], folder: Path) -> int | None:
        """Render each of ``contents`` at full resolution (each with its own brushed mask and
        the current style, region and sliders) into ``folder``, as one job."""
        requests = [request for request in map(self.choices.request_for, contents) if request is not None]
        if not requests:
            return None
        first = requests[0]
        destinations = selection_destinations(self.settings.name_template, contents, first.style, first.options, folder)
        return self._queue(SaveSelectionJob(list(zip(requests, destinations, strict=True)), folder), folder)

    def stylize_folder_dialog(self) -> None:
        folder = self.choices.browser.folder
        start = str(folder) if folder else str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self.window, "Stylize which folder?", start)
        if chosen:
            self.ask_stylize_folder(Path(chosen))

    def ask_stylize_folder(self, folder: Path) -> None:
        default = Path(self.settings.output_folder) if self.settings.output_folder else folder / "styled"
        output = QFileDialog.getExistingDirectory(self.window, f"Output folder for {folder.name}", str(default.parent))
        if output:
            self.stylize_folder(folder, Path(output))

    def stylize_folder(self, folder: Path, output: Path) -> int | None:
        """Queue a batch job: every photo of ``folder`` with the current style and region."""
        style = self.choices.styles.current_style()
        if style is None:
            QMessageBox.information(self.window, "Stylize folder", "Pick a style first.")
            return None
        job = BatchJob(folder, output, style, self.choices.settings.options, self.settings.name_template)
        return self._queue(job, output)

    def _name(self, name: Callable[[], Named]) -> Named | None:
        """File names from the template; a bad one (kept from an older version) is a message."""
        try:
            return name()
        except StylerError as error:
            QMessageBox.warning(self.window, "File name", f"{error}. Fix the file name in Edit ▸ Settings.")
            return None

    def _queue(self, job: SaveJob | SaveSelectionJob | BatchJob, output: Path) -> int:
        job_id = self.worker.submit(
            job,
            on_result=lambda result: self._show_message(f"Finished: {result}", 8000),
            on_error=lambda message: self._show_message(message, 15000),
        )
        self.jobs.add_job(job_id, job.title, output)
        self.jobs_dock.raise_()
        return job_id
