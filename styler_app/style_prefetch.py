"""The gallery's styles encoded in the engine thread's idle time, so that clicking one costs
no style encoding (the preview goes straight to attention).

One idle job encodes every style the gallery lists (for the quick and the full pass, the
model loaded first). Idle jobs have the lowest priority and any other job cancels them
(``EngineWorker.submit``); when that happens the job is submitted again, behind the work
that pre-empted it, and skips the styles already encoded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.errors import Cancelled, StylerError
from styler_app.job_protocol import FunctionJob, JobContext, JobState
from styler_app.jobs import session_of
from styler_app.worker import EngineWorker

log = logging.getLogger(__name__)


class StylePrefetcher(QObject):
    """Signals:
    done(int): every style the gallery listed is encoded (how many could be read).
    """

    done = Signal(int)

    def __init__(self, worker: EngineWorker, styles: Callable[[], list[Path]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker, self._styles = worker, styles
        self._job: int | None = None
        self._stopped = False

    def start(self) -> None:
        """Encode the gallery's styles now if the engine is idle (again after a new model or
        new styles: the encoded ones are skipped)."""
        if self._stopped:
            return
        if self._job is not None:
            self._worker.cancel(self._job)
        styles = list(self._styles())
        job = FunctionJob("encode gallery styles", lambda context: _encode(styles, context), "idle")
        holder: list[int] = []
        holder.append(self._worker.submit(
            job, on_result=self.done.emit, on_finished=lambda state: self._finished(holder[0], state)
        ))
        self._job = holder[0]

    def stop(self) -> None:
        """No more prefetching (the window is closing)."""
        self._stopped = True
        if self._job is not None:
            self._worker.cancel(self._job)

    def _finished(self, job_id: int, state: JobState) -> None:
        if job_id != self._job:
            return  # replaced by a newer prefetch
        self._job = None
        if state == "cancelled":  # pre-empted by real work: resume behind it
            self.start()


def _encode(styles: list[Path], context: JobContext) -> int:
    """Encode each style (worker thread); a style that cannot be read is skipped here (its
    preview reports it when clicked). Returns how many were encoded or already cached."""
    session = session_of(context)
    done = 0
    for style in styles:
        context.check()
        try:
            session.prefetch_style(style, context)
            done += 1
        except Cancelled:
            raise
        except StylerError as error:
            log.info("style %s not prefetched: %s", style, error)
    return done
