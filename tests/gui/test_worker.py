"""The engine worker on its own, with fake sessions: signal order, cancellation, stale
previews, throttled progress, errors that never kill it, and a GUI thread that keeps going."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer

from engine.errors import StylerError
from styler_app.job_protocol import FunctionJob, JobContext
from styler_app.worker import EngineWorker


class FakeSession:
    def describe(self) -> dict[str, str]:
        return {"model": "fake", "device": "nowhere", "memory": ""}


def slow_job(seconds: float, kind: str = "task", release: threading.Event | None = None) -> FunctionJob:
    """Works in small steps, checking cancel between them like the engine does."""

    def work(context: JobContext) -> str:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (release and release.is_set()):
            context.check()
            time.sleep(0.01)
        return "slept"

    return FunctionJob("slow", work, kind)


def make_worker(qtbot) -> EngineWorker:  # type: ignore[no-untyped-def]
    worker = EngineWorker(FakeSession)
    worker.start()
    return worker


def test_signals_come_in_order_and_carry_the_result(qtbot) -> None:
    worker = make_worker(qtbot)
    seen: list[tuple] = []
    # The test listens on the GUI thread (job_* and the job's callbacks): a receiver of the
    # worker-thread signals must be a declared slot (PYSIDE-3124), and lambdas are not.
    worker.job_started.connect(lambda *args: seen.append(("started", *args)))
    worker.job_finished.connect(lambda *args: seen.append(("finished", *args)))
    try:
        job = FunctionJob("answer", lambda context: 42)
        with qtbot.waitSignals([worker.job_started, worker.job_finished], order="strict", timeout=10_000):
            job_id = worker.submit(job, on_result=lambda value: seen.append(("result", value)))
        assert seen == [("started", job_id, "task"), ("result", 42), ("finished", job_id, "done")]
    finally:
        assert worker.stop()


def test_errors_are_messages_and_the_worker_lives_on(qtbot) -> None:
    worker = make_worker(qtbot)
    errors: list[str] = []
    try:
        def user_error(context: JobContext) -> None:
            raise StylerError("photo.jpg: file not found")

        def bug(context: JobContext) -> None:
            raise ZeroDivisionError("division by zero")

        for work in (user_error, bug):
            with qtbot.waitSignal(worker.job_finished, timeout=10_000) as blocker:
                worker.submit(FunctionJob("bad", work), on_error=errors.append)
            assert blocker.args[1] == "failed"
        assert errors[0] == "photo.jpg: file not found"
        assert "ZeroDivisionError" in errors[1] and "log" in errors[1]
        results: list[str] = []
        with qtbot.waitSignal(worker.job_finished, timeout=10_000):
            worker.submit(FunctionJob("fine", lambda context: "still here"), on_result=results.append)
        assert results == ["still here"]
    finally:
        assert worker.stop()


def test_a_new_preview_cancels_the_stale_one(qtbot) -> None:
    worker = make_worker(qtbot)
    states: dict[int, str] = {}
    worker.job_finished.connect(lambda job_id, state: states.__setitem__(job_id, state))
    try:
        with qtbot.waitSignal(worker.job_started, timeout=10_000):
            first = worker.submit(slow_job(30, "preview"))
        second = worker.submit(slow_job(0.05, "preview"))
        qtbot.waitUntil(lambda: second in states, timeout=10_000)
        assert states == {first: "cancelled", second: "done"}
    finally:
        assert worker.stop()


def test_cancelled_while_queued_never_starts(qtbot) -> None:
    worker = make_worker(qtbot)
    started: list[int] = []
    states: dict[int, str] = {}
    worker.job_started.connect(lambda job_id, kind: started.append(job_id))
    worker.job_finished.connect(lambda job_id, state: states.__setitem__(job_id, state))
    release = threading.Event()
    try:
        blocking = worker.submit(slow_job(30, release=release))
        queued = worker.submit(slow_job(30, "batch"))
        worker.cancel(queued)
        release.set()
        qtbot.waitUntil(lambda: queued in states, timeout=10_000)
        assert states[queued] == "cancelled" and queued not in started
        assert states[blocking] == "done"
    finally:
        assert worker.stop()


def test_progress_is_throttled(qtbot) -> None:
    worker = make_worker(qtbot)
    received: list[float] = []
    worker.job_progress.connect(lambda job_id, fraction, message: received.append(fraction))
    reports = 20_000

    def chatty(context: JobContext) -> None:
        for i in range(reports):
            context.progress(i / reports, "")
        context.progress(1.0, "done")

    try:
        with qtbot.waitSignal(worker.job_finished, timeout=20_000):
            worker.submit(FunctionJob("chatty", chatty))
        assert 1 <= len(received) < reports / 100
        assert received[-1] == 1.0  # the final report always gets through
    finally:
        assert worker.stop()


def test_gui_thread_keeps_ticking_while_a_slow_job_runs(qtbot) -> None:
    worker = make_worker(qtbot)
    ticks: list[int] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(1))
    release = threading.Event()
    try:
        with qtbot.waitSignal(worker.job_started, timeout=10_000):
            job_id = worker.submit(slow_job(60, release=release))
        timer.start()
        qtbot.waitUntil(lambda: len(ticks) >= 20, timeout=10_000)  # the job is still running
        assert job_id in worker.active_jobs(("task",))
        release.set()
        with qtbot.waitSignal(worker.job_finished, timeout=10_000):
            pass
    finally:
        timer.stop()
        assert worker.stop()


def test_a_job_is_active_until_its_callbacks_have_run(qtbot) -> None:
    worker = make_worker(qtbot)
    results: list[str] = []
    try:
        job_id = worker.submit(FunctionJob("quick", lambda context: "done"), on_result=results.append)
        time.sleep(1.0)  # the GUI thread is busy: the job ends, its result waits in the event queue
        assert results == [] and job_id in worker.active_jobs(("task",))
        qtbot.waitUntil(lambda: not worker.active_jobs(("task",)), timeout=10_000)
        assert results == ["done"]  # "no active job" came with the result already handled
    finally:
        assert worker.stop()


def test_stop_cancels_running_and_queued_jobs(qtbot) -> None:
    worker = make_worker(qtbot)
    states: dict[int, str] = {}
    worker.job_finished.connect(lambda job_id, state: states.__setitem__(job_id, state))
    with qtbot.waitSignal(worker.job_started, timeout=10_000):
        running = worker.submit(slow_job(60, "batch"))
    queued = worker.submit(slow_job(60, "save"))
    assert worker.stop(10_000)
    qtbot.waitUntil(lambda: len(states) == 2, timeout=10_000)
    assert states == {running: "cancelled", queued: "cancelled"}


def test_receivers_of_cross_thread_signals_are_declared_slots() -> None:
    """A method PySide6 has to turn into a slot at run time (no @Slot) was seen crashing the
    GUI thread in a queued call while the engine thread emitted (PYSIDE-3124): the worker's
    deliveries and the jobs panel's handlers are declared in their classes' meta-objects."""
    from styler_app.widgets.jobs_panel import JobsPanel

    declared = {
        EngineWorker: ["_deliver_started(int,QString)", "_deliver_progress(int,double,QString)",
                       "_deliver_result(int,PyObject)", "_deliver_partial(int,PyObject)",
                       "_deliver_error(int,QString)", "_deliver_finished(int,QString)"],
        JobsPanel: ["_started(int,QString)", "on_progress(int,double,QString)", "on_item_failed(int,QString,QString)",
                    "on_error(int,QString)", "on_finished(int,QString)"],
    }
    for cls, slots in declared.items():
        meta = cls.staticMetaObject
        missing = [slot for slot in slots if meta.indexOfSlot(slot) < 0]
        assert not missing, f"{cls.__name__} lacks declared slots {missing}"
