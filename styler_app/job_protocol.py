"""What a job is and what it sees while it runs, for anything submitted to the
``EngineWorker`` (``styler_app.worker``): the ``Job`` protocol and ``FunctionJob``, the
``JobKind`` that sets its queue priority, the ``JobState`` it ends in, and the
``JobContext`` (progress, cancel, partial answers, the engine session) handed to ``run``.

Jobs import this module; only code that submits them needs the worker (and Qt). The worker
builds each ``JobContext``; ``JobControl`` is the part of one that engine work uses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

from engine.errors import Cancelled

if TYPE_CHECKING:
    from styler_app.worker import EngineWorker

# The GUI repaints at most this often per job however fast the engine reports.
PROGRESS_INTERVAL_S = 0.05


class JobContext:
    """What a running job sees: throttled progress, its cancel flag, per-item failures and
    the engine session that owns the models."""

    def __init__(self, job_id: int, worker: EngineWorker, cancel_event: threading.Event) -> None:
        self.job_id = job_id
        self._worker = worker
        self._cancel_event = cancel_event
        self._last_emit = 0.0

    @property
    def session(self) -> EngineSessionLike:
        return self._worker.session_for_jobs()

    def cancelled(self) -> bool:
        return self._cancel_event.is_set()

    def check(self) -> None:
        if self._cancel_event.is_set():
            raise Cancelled()

    def progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_emit < PROGRESS_INTERVAL_S:
            return  # dropped: a newer report will follow within the interval
        self._last_emit = now
        self._worker.progress.emit(self.job_id, float(fraction), message)

    def item_failed(self, item: str, reason: str) -> None:
        self._worker.item_failed.emit(self.job_id, item, reason)

    def partial(self, payload: object) -> None:
        """An early answer before the job's result (e.g. a quick low-resolution preview);
        dropped once the job is cancelled."""
        if not self._cancel_event.is_set():
            self._worker.partial.emit(self.job_id, payload)


# What a job is, for queue priority and for asking before quitting.
# "idle": prefetching (e.g. the gallery's styles); any other job submitted cancels it.
JobKind = Literal["config", "preview", "task", "save", "batch", "idle"]
# How a job ended; ``finished`` carries one of these.
JobState = Literal["done", "cancelled", "failed"]

Result = TypeVar("Result")
Result_co = TypeVar("Result_co", covariant=True)


class Job(Protocol[Result_co]):
    """Anything the worker can run. ``run`` executes in the worker thread."""

    @property
    def kind(self) -> JobKind: ...

    @property
    def title(self) -> str: ...  # shown in the Jobs panel

    def run(self, context: JobContext) -> Result_co: ...


class EngineSessionLike(Protocol):
    """What the worker itself asks of its session (jobs ask more: see ``jobs.session_of``)."""

    def describe(self) -> dict[str, str]: ...


class JobControl(Protocol):
    """What engine work sees of the job it runs in: a ``JobContext``, or a share of one."""

    def cancelled(self) -> bool: ...

    def check(self) -> None: ...

    def progress(self, fraction: float, message: str = "") -> None: ...

    def item_failed(self, item: str, reason: str) -> None: ...


@dataclass
class FunctionJob(Generic[Result]):
    """A job made of a plain function of the context (used for small engine queries)."""

    title: str
    function: Callable[[JobContext], Result]
    kind: JobKind = "task"

    def run(self, context: JobContext) -> Result:
        return self.function(context)

