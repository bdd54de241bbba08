"""The live preview: debouncing, the one preview job in flight, what it shows, the mask
overlay the brush paints on, and clicks that pick objects (SAM 2).

Owns the preview job (a new one cancels the stale one), each photo's prompt mask (the
overlay to brush into when nothing is brushed yet) and the last preview shown. Listens to
nothing itself: the window connects whatever should re-render to ``schedule``.

To extend it (e.g. a faster preview path, a click-to-select tool): connect to ``shown`` for
every preview put on the canvas, or submit other jobs to ``worker`` with callbacks (see
``EngineWorker.submit``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QPointF, QSize, QTimer, Signal
from PySide6.QtGui import QImage

from engine.options import Click
from styler_app.choices import Choices
from styler_app.images import mask_to_qimage
from styler_app.jobs import PreviewJob, session_of
from styler_app.mask_edits import MaskEdits
from styler_app.requests import PreviewResult
from styler_app.widgets.preview_pane import PreviewPane
from styler_app.worker import EngineWorker, FunctionJob, JobState

PREVIEW_DEBOUNCE_MS = 350
ShowMessage = Callable[[str, int], None]  # (text, milliseconds): the status bar


class PreviewController(QObject):
    """Signals:
    shown(PreviewResult): a preview is on the canvas (the history strip records it).
    failed(str): the preview could not be made; the message is on the canvas too.
    """

    shown = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        worker: EngineWorker,
        pane: PreviewPane,
        choices: Choices,
        mask_edits: MaskEdits,
        preview_size: Callable[[], int],
        show_message: ShowMessage,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker, self.pane, self.choices, self.mask_edits = worker, pane, choices, mask_edits
        self._preview_size, self._show_message = preview_size, show_message
        self._job: int | None = None
        self._prompt_masks: dict[str, np.ndarray | None] = {}
        self._last: PreviewResult | None = None
        self._timer = QTimer(self, singleShot=True, interval=PREVIEW_DEBOUNCE_MS)
        self._timer.timeout.connect(self.preview_now)
        pane.canvas.stroke_finished.connect(self._stroke_finished)
        pane.canvas.clicked.connect(self._clicked)
        pane.reset_mask.clicked.connect(self.reset_mask)
        mask_edits.changed.connect(self._mask_changed)
        self.check_refiner()

    def check_refiner(self) -> None:
        """Ask the engine whether SAM 2 is installed: click to select needs it, and text
        regions are outlined with it when it is (as ``--refine`` defaults in the CLI)."""
        self.worker.submit(FunctionJob("check SAM 2", lambda context: session_of(context).refiner_installed()),
                           on_result=self._refiner_checked)

    def _refiner_checked(self, installed: bool) -> None:
        refiner = "sam" if installed else "none"
        self.pane.set_select_available(installed)
        if refiner != self.choices.refiner:
            self.choices.refiner = refiner
            self.schedule()

    @property
    def last(self) -> PreviewResult | None:
        """The preview on the canvas, if any."""
        return self._last

    def schedule(self) -> None:
        """Re-render once the controls have been still for a moment."""
        self._timer.start()

    def preview_now(self) -> None:
        self._timer.stop()
        request = self.choices.current_request()
        if request is None:
            hint = "Pick a photo" if self.choices.browser.current_path() is None else "Pick a style"
            self.pane.canvas.placeholder = f"{hint} to see a preview"
            self.pane.canvas.update()
            return
        self._job = self.worker.submit(
            PreviewJob(request, self._preview_size()),
            on_started=self._started,
            on_progress=self._progress,
            on_result=self._show,
            on_error=self._failed,
            on_finished=self._finished,
        )
        self.pane.canvas.set_status("Rendering…")

    def cancel(self) -> None:
        if self._job is not None:
            self.worker.cancel(self._job)

    def stop(self) -> None:
        """No more previews (the window is closing)."""
        self._timer.stop()

    def reset_mask(self) -> None:
        content = self.choices.browser.current_path()
        if content is not None:
            self.mask_edits.reset(str(content))

    # ------------------------------------------------------------------ the preview job

    def _started(self) -> None:
        self.pane.progress.setValue(0)
        self.pane.progress.show()

    def _progress(self, fraction: float, message: str) -> None:
        self.pane.progress.setValue(int(fraction * 1000))
        self.pane.canvas.set_status(f"Rendering… {message}" if message else "Rendering…")

    def _show(self, result: PreviewResult) -> None:
        self._last = result
        key = str(result.request.content)
        if result.request.mask_edit is None:
            self._prompt_masks[key] = result.mask
        self.pane.canvas.set_images(result.original, result.result)
        self._update_canvas_mask(key, result.original.size())
        note = "; ".join(result.notes)
        self.pane.canvas.set_status(note)
        self._show_message(f"Preview in {result.seconds:.1f} s" + (f" — {note}" if note else ""), 5000)
        self.shown.emit(result)

    def _failed(self, message: str) -> None:
        self.pane.canvas.set_status("")
        self.pane.canvas.placeholder = message
        self.pane.canvas.update()
        self._show_message(message, 15000)
        self.failed.emit(message)

    def _finished(self, state: JobState) -> None:
        self.pane.progress.hide()
        if state == "cancelled":
            self.pane.canvas.set_status("")

    # ------------------------------------------------------------------ the brushed mask

    def _update_canvas_mask(self, key: str, size: QSize) -> None:
        edited = self.mask_edits.mask(key)
        if edited is not None:
            self.pane.canvas.set_mask(edited)
            return
        prompt_mask = self._prompt_masks.get(key)
        if prompt_mask is None:  # "everything": a full mask the brush can carve into
            prompt_mask = np.ones((size.height(), size.width()), dtype=np.float32)
        self.pane.canvas.set_mask(mask_to_qimage(prompt_mask))

    def _stroke_finished(self, mask: QImage) -> None:
        content = self.choices.browser.current_path()
        if content is not None:
            self.mask_edits.stroke(str(content), mask)

    # ------------------------------------------------------------------ clicks (SAM 2)

    def _clicked(self, point: QPointF, add: bool) -> None:
        """A click on the preview, in its pixels -> a click in the photo's own pixels."""
        content = self.choices.browser.current_path()
        if content is None or self._last is None or self._last.photo_size == (0, 0):
            return
        width, height = self._last.photo_size
        shown = self._last.original.size()
        x = min(width - 1, math.floor(point.x() * width / shown.width()))
        y = min(height - 1, math.floor(point.y() * height / shown.height()))
        if self.mask_edits.mask(str(content)) is not None:
            self._show_message("The brushed mask is used as painted; Reset mask to select objects", 8000)
            return
        self.mask_edits.click(str(content), Click(x, y, add))

    def _mask_changed(self, image: str) -> None:
        current = self.choices.browser.current_path()
        if current is not None and str(current) == image and self._last is not None:
            self._update_canvas_mask(image, self._last.original.size())
            self.schedule()
