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
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QPointF, QSize, QTimer, Signal
from PySide6.QtGui import QImage

from engine.options import Click
from styler_app.choices import Choices
from styler_app.images import mask_to_qimage
from styler_app.job_protocol import FunctionJob, JobContext, JobState
from styler_app.jobs import PreviewJob, session_of
from styler_app.mask_edits import MaskEdits
from styler_app.requests import PreviewResult
from styler_app.strength_blend import StrengthBlend
from styler_app.widgets.preview_pane import PreviewPane
from styler_app.worker import EngineWorker

PREVIEW_DEBOUNCE_MS = 350
ShowMessage = Callable[[str, int], None]  # (text, milliseconds): the status bar


class PreviewController(QObject):
    """Signals:
    shown(PreviewResult): a preview is on the canvas (the history strip records it).
    quick_shown(PreviewResult): the quick low-resolution pass is on the canvas; the full
        preview replaces it (``shown``) unless settings change again first.
    blended(float): while the strength slider is dragged, the canvas shows this strength
        blended from cached renders (no engine work).
    failed(str): the preview could not be made; the message is on the canvas too.
    """

    shown = Signal(object)
    quick_shown = Signal(object)
    blended = Signal(float)
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
        self._blend = StrengthBlend()
        self._dragging = False
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
        """Re-render once the controls have been still for a moment (not while the strength
        slider is dragged: its release renders)."""
        if not self._dragging:
            self._timer.start()

    # ------------------------------------------------------------------ the strength slider

    def begin_strength_drag(self) -> None:
        self._dragging = True
        self._timer.stop()

    def drag_strength(self, strength: float) -> None:
        """Show ``strength`` at once, blended from renders at other strengths (no engine work)."""
        if self._last is None:
            return
        request = self._last.request
        if not self._blend.matches(request):
            return
        image = self._blend.at(strength)
        if image is not None:
            self.pane.canvas.set_images(self._last.original, image)
            self.pane.canvas.set_status(f"strength {strength:.2f} — release for the exact render")
            self.blended.emit(strength)

    def end_strength_drag(self) -> None:
        """The exact render for where the slider stopped."""
        self._dragging = False
        self.preview_now()

    def preview_now(self) -> None:
        self._timer.stop()
        request = self.choices.current_request()
        if request is None:
            hint = "Pick a photo" if self.choices.browser.current_path() is None else "Pick a style"
            self.pane.canvas.placeholder = f"{hint} to see a preview"
            self.pane.canvas.update()
            return
        # First pixels: a blend of cached renders when only the strength changed, else the
        # job's quick low-resolution pass.
        blended = self._blend.at(request.options.strength) if self._blend.matches(request) else None
        if blended is not None and self._last is not None:
            self.pane.canvas.set_images(self._last.original, blended)
        self._job = self.worker.submit(
            PreviewJob(request, self._preview_size(), quick=blended is None),
            on_started=self._started,
            on_progress=self._progress,
            on_result=self._show,
            on_error=self._failed,
            on_finished=self._finished,
            on_partial=self._show_quick,
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

    def _show_quick(self, result: PreviewResult) -> None:
        """The quick pass: pixels at once, replaced by the full preview (``_show``). Not the
        preview of record: clicks, the mask overlay and the history wait for the full one."""
        self.pane.canvas.set_images(result.original, result.result)
        self.pane.canvas.set_status("Rendering… (quick preview)")
        self.quick_shown.emit(result)

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
        self._blend.add(result)
        self.shown.emit(result)
        self._render_strength_anchors(result)

    def _render_strength_anchors(self, shown: PreviewResult) -> None:
        """In idle time, the same preview at the slider's ends, for blending while dragging
        (the engine caches the attention: each is one decode)."""
        missing = self._blend.missing_anchors()
        if not missing:
            return
        requests = [replace(shown.request, options=replace(shown.request.options, strength=s)) for s in missing]
        size = self._preview_size()

        def render(context: JobContext) -> list[PreviewResult]:
            session = session_of(context)
            return [session.preview(request, size, context) for request in requests]

        def keep(results: list[PreviewResult]) -> None:
            for result in results:
                if self._blend.matches(result.request):
                    self._blend.add(result)

        self.worker.submit(FunctionJob("strength anchors", render, "idle"), on_result=keep)

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
