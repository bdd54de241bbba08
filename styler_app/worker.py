"""The engine worker: one thread that owns the models and runs jobs one at a time.

The GPU is one resource and the models are not thread-safe, so every piece of engine work
(model loading, segmentation, stylisation, saving, batches) goes through this queue. The
GUI submits jobs and listens to signals; it never waits on the thread.

torch is imported only inside the worker thread (see ``session.py``), so the window can
appear before the engine has finished loading.

Submitting engine work from the GUI, with its answer delivered back on the GUI thread::

    job_id = worker.submit(
        FunctionJob("count models", lambda context: context.session.missing_models()),
        on_result=lambda missing: ...,      # the job's return value
        on_error=lambda message: ...,       # one readable line
        on_progress=lambda fraction, message: ...,
        on_finished=lambda state: ...,      # "done" | "cancelled" | "failed", always last
    )

The signals below carry every job's events as well (the Jobs panel follows them all).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.errors import Cancelled, Remedy, StylerError
from styler_app.job_protocol import EngineSessionLike, FunctionJob, Job, JobContext, JobKind, JobState, Result

log = logging.getLogger(__name__)

# What to do about an engine error, in the window's terms (the CLI has its own wording).
GUI_REMEDIES: dict[Remedy, str] = {
    "smaller_image": "choose a smaller preview size or another device in Edit ▸ Settings",
    "smaller_style": "choose a smaller style image or another device in Edit ▸ Settings",
    "other_device": "choose another device in Edit ▸ Settings",
    "other_segmenter": "install CLIPSeg again from Help ▸ Models…",
}


@dataclass
class _Callbacks:
    """One job's listeners on the GUI thread (see ``EngineWorker.submit``)."""

    started: Callable[[], None] | None = None
    progress: Callable[[float, str], None] | None = None
    result: Callable[[Any], None] | None = None
    partial: Callable[[Any], None] | None = None
    error: Callable[[str], None] | None = None
    finished: Callable[[JobState], None] | None = None
    kind: JobKind = "task"


@dataclass(order=True)
class _Queued:
    priority: int
    sequence: int
    job_id: int = field(compare=False)
    job: Job[object] | None = field(compare=False)


# Previews jump ahead of queued saves and batches: the person is waiting on them.
_PRIORITY: dict[JobKind, int] = {"config": 0, "preview": 0, "task": 1, "save": 2, "batch": 3, "idle": 4}
_STOP_PRIORITY = -1


class EngineWorker(QObject):
    """Owns the engine session (models and caches) and a priority job queue, in one thread.

    Signals:
        started(job_id, kind): a job began running.
        progress(job_id, fraction, message): at most every ``job_protocol.PROGRESS_INTERVAL_S`` per job,
            plus the final 1.0.
        result(job_id, payload): the job's return value (e.g. a PreviewResult).
        partial(job_id, payload): an early answer the job sent before its result
            (``JobContext.partial``), e.g. the quick pass of a preview.
        error(job_id, message): one readable line; the job failed, the worker lives on.
        item_failed(job_id, item, reason): one input of a batch failed; the job goes on.
        finished(job_id, state): always last for every submitted job; state is "done",
            "cancelled" or "failed".
        status(dict): device, model and memory after each job, for the status bar.
        environment(dict): torch/CUDA versions and devices, once, when the thread starts.

    Signals are emitted from the worker thread; Qt queues them to receivers in the GUI
    thread, so slots never run concurrently with the GUI. Their receivers must be declared
    ``@Slot``s (PySide6 can crash in a queued call of an undeclared one, PYSIDE-3124).

    job_started, job_progress, job_finished: the same three events emitted again on the GUI
    thread once delivered (``job_finished`` after the job's own callbacks ran), for any
    receiver: a lambda, a test's ``waitSignal``.
    """

    started = Signal(int, str)
    progress = Signal(int, float, str)
    result = Signal(int, object)
    partial = Signal(int, object)
    error = Signal(int, str)
    item_failed = Signal(int, str, str)
    finished = Signal(int, str)
    status = Signal(dict)
    environment = Signal(dict)
    job_started = Signal(int, str)
    job_progress = Signal(int, float, str)
    job_finished = Signal(int, str)

    def __init__(self, session_factory: Callable[[], EngineSessionLike], parent: QObject | None = None) -> None:
        """``session_factory`` runs in the worker thread and returns the engine session
        (usually ``session.EngineSession(config)``); tests pass a fake."""
        super().__init__(parent)
        self._session_factory = session_factory
        self._session: EngineSessionLike | None = None
        self._queue: queue.PriorityQueue[_Queued] = queue.PriorityQueue()
        self._ids = itertools.count(1)
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._cancel_events: dict[int, threading.Event] = {}
        self._callbacks: dict[int, _Callbacks] = {}  # GUI thread only
        self._thread = _LoopThread(self._loop)
        # The signals come from the worker thread; these slots belong to this object, which
        # lives in the GUI thread, so Qt queues them there. Every receiver of a signal from
        # another thread is a declared @Slot: PySide6 turns an undeclared method into a slot
        # at run time, and gdb caught the GUI thread crashing inside such a queued call while
        # an engine thread ran (PYSIDE-3124 reports the same with cross-thread signals).
        self.started.connect(self._deliver_started)
        self.progress.connect(self._deliver_progress)
        self.result.connect(self._deliver_result)
        self.partial.connect(self._deliver_partial)
        self.error.connect(self._deliver_error)
        self.finished.connect(self._deliver_finished)

    # ------------------------------------------------------------------ GUI thread API

    def start(self) -> None:
        self._thread.start()

    def submit(
        self,
        job: Job[Result],
        *,
        on_started: Callable[[], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        on_result: Callable[[Result], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_finished: Callable[[JobState], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
    ) -> int:
        """Queue ``job``; returns its id. The callbacks run on the GUI thread: ``on_result``
        with what ``job.run`` returned, ``on_error`` with one readable line, ``on_finished``
        always last; ``on_partial`` with each early answer (``JobContext.partial``) of a job
        not cancelled meanwhile. A new preview cancels every older preview; any job but an
        idle one cancels the idle jobs."""
        job_id = next(self._ids)
        self._callbacks[job_id] = _Callbacks(
            on_started, on_progress, on_result, on_partial, on_error, on_finished, job.kind
        )
        with self._lock:
            for other, callbacks in self._callbacks.items():
                # Real work pre-empts idle work (its owner resubmits it); a new preview
                # makes older ones stale. A job that has ended has no event left to set.
                kind = callbacks.kind
                if (job.kind != "idle" and kind == "idle") or (job.kind == "preview" and kind == "preview"):
                    event = self._cancel_events.get(other)
                    if event is not None:
                        event.set()
            self._cancel_events[job_id] = threading.Event()
        priority = _PRIORITY.get(job.kind, 1)
        self._queue.put(_Queued(priority, next(self._sequence), job_id, job))
        return job_id

    def cancel(self, job_id: int) -> None:
        with self._lock:
            event = self._cancel_events.get(job_id)
        if event is not None:
            event.set()

    def cancel_all(self) -> None:
        with self._lock:
            for event in self._cancel_events.values():
                event.set()

    def active_jobs(self, kinds: tuple[JobKind, ...] = ("save", "batch")) -> list[int]:
        """Ids of the jobs of these kinds that the GUI thread has not heard the end of: queued,
        running, or done with their result and ``finished`` still on their way to this
        thread (so that "none active" means every callback has run). GUI thread only."""
        return [job_id for job_id, callbacks in self._callbacks.items() if callbacks.kind in kinds]

    def reconfigure(self, session_factory: Callable[[], EngineSessionLike]) -> None:
        """Use a new session (other device, model…) from the next job on."""
        self.submit(FunctionJob("apply settings", lambda context: self._replace_session(session_factory), "config"))

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything, let the running job reach its next cancel check, end the thread."""
        self.cancel_all()
        self._queue.put(_Queued(_STOP_PRIORITY, next(self._sequence), 0, None))
        return self._thread.wait(timeout_ms) if self._thread.isRunning() else True

    def is_running(self) -> bool:
        return self._thread.isRunning()

    # ------------------------------------------------------------------ GUI thread: per-job callbacks

    @Slot(int, str)
    def _deliver_started(self, job_id: int, kind: str) -> None:
        callbacks = self._callbacks.get(job_id)
        if callbacks is not None and callbacks.started is not None:
            callbacks.started()
        self.job_started.emit(job_id, kind)

    @Slot(int, float, str)
    def _deliver_progress(self, job_id: int, fraction: float, message: str) -> None:
        callbacks = self._callbacks.get(job_id)
        if callbacks is not None and callbacks.progress is not None:
            callbacks.progress(fraction, message)
        self.job_progress.emit(job_id, fraction, message)

    @Slot(int, object)
    def _deliver_result(self, job_id: int, payload: object) -> None:
        callbacks = self._callbacks.get(job_id)
        if callbacks is not None and callbacks.result is not None:
            callbacks.result(payload)

    @Slot(int, object)
    def _deliver_partial(self, job_id: int, payload: object) -> None:
        with self._lock:
            event = self._cancel_events.get(job_id)
        callbacks = self._callbacks.get(job_id)
        cancelled = event is not None and event.is_set()  # no event: the job ended after sending it
        if not cancelled and callbacks is not None and callbacks.partial is not None:
            callbacks.partial(payload)

    @Slot(int, str)
    def _deliver_error(self, job_id: int, message: str) -> None:
        callbacks = self._callbacks.get(job_id)
        if callbacks is not None and callbacks.error is not None:
            callbacks.error(message)

    @Slot(int, str)
    def _deliver_finished(self, job_id: int, state: str) -> None:
        callbacks = self._callbacks.pop(job_id, None)
        if callbacks is not None and callbacks.finished is not None:
            callbacks.finished(cast(JobState, state))  # the signal carries it as a str
        self.job_finished.emit(job_id, state)

    # ------------------------------------------------------------------ worker thread

    def _replace_session(self, factory: Callable[[], EngineSessionLike]) -> None:
        self._session_factory = factory
        close = getattr(self._session, "close", None)
        if close is not None:
            close()
        self._session = None  # built lazily by the next job that needs it
        self.status.emit({"model": "not loaded"})

    def session_for_jobs(self) -> EngineSessionLike:
        """The session, built on first use (``JobContext.session``); worker thread only."""
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    def _loop(self) -> None:
        self._emit_environment()
        while True:
            item = self._queue.get()
            if item.job is None:
                self._drain_cancelled()
                return
            self._run_one(item.job_id, item.job)

    def _drain_cancelled(self) -> None:
        """Jobs still queued at shutdown still get their ``finished`` (the panel clears)."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item.job is not None:
                self._forget(item.job_id)
                self.finished.emit(item.job_id, "cancelled")

    def _forget(self, job_id: int) -> threading.Event | None:
        with self._lock:
            return self._cancel_events.pop(job_id, None)

    def _run_one(self, job_id: int, job: Job[object]) -> None:
        with self._lock:
            event = self._cancel_events[job_id]
        if event.is_set():  # cancelled while queued: never started
            self._forget(job_id)
            self.finished.emit(job_id, "cancelled")
            return
        self.started.emit(job_id, job.kind)
        context = JobContext(job_id, self, event)
        state: JobState = "failed"
        try:
            payload = job.run(context)
            if event.is_set():
                raise Cancelled()
            state = "done"
            self.result.emit(job_id, payload)
        except Cancelled:
            state = "cancelled"
        except StylerError as exc:
            log.warning("%s failed: %s", job.title, exc)
            self.error.emit(job_id, exc.worded(GUI_REMEDIES))
        except MemoryError:
            log.exception("%s ran out of memory", job.title)
            self.error.emit(job_id, "out of memory; try a smaller preview size or the CPU/another GPU")
        except Exception as exc:  # the app must survive engine bugs; the log has the trace
            log.exception("%s crashed", job.title)
            self.error.emit(job_id, f"unexpected error ({type(exc).__name__}: {exc}); see the log file")
        finally:
            self._forget(job_id)
        self.finished.emit(job_id, state)
        self._emit_status()

    def _emit_status(self) -> None:
        describe = getattr(self._session, "describe", None)
        if describe is not None:
            try:
                self.status.emit(describe())
            except Exception:  # status is cosmetic; never let it kill the worker
                log.exception("status query failed")

    def _emit_environment(self) -> None:
        try:
            from styler_app.environment import engine_environment

            self.environment.emit(engine_environment())
        except Exception as exc:
            log.exception("environment query failed")
            self.environment.emit({"error": str(exc)})


class _LoopThread(QThread):
    """A thread whose whole life is the worker's loop (no Qt event loop is needed there)."""

    def __init__(self, loop: Callable[[], None]) -> None:
        super().__init__()
        self._loop = loop

    def run(self) -> None:
        self._loop()
