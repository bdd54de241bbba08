"""Garbage cycles holding Qt objects are collected on the GUI thread, never in the engine's.

A collection that runs in a worker thread destroys widgets off the GUI thread and crashes
the app (styler_app/gui_thread_gc.py says how this was found)."""

from __future__ import annotations

import gc
import threading

from PySide6.QtWidgets import QWidget

from styler_app.gui_thread_gc import collect_garbage_on_gui_thread


class _Witness:
    """Records the thread that destroys it."""

    def __init__(self, seen: list[threading.Thread]) -> None:
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread())


def test_a_dead_widget_cycle_is_collected_by_the_gui_thread_not_by_a_busy_worker(qtbot) -> None:  # type: ignore[no-untyped-def]
    gc.enable()  # as in a fresh process: the app turns automatic collection off itself
    collect_garbage_on_gui_thread(interval_s=0.05)

    destroyed_by: list[threading.Thread] = []
    widget = QWidget()
    widget.witness = _Witness(destroyed_by)  # type: ignore[attr-defined]
    widget.itself = widget  # type: ignore[attr-defined]  # the cycle: only a collection frees it
    del widget

    def allocate() -> None:  # enough tracked objects to cross every collection threshold
        for _ in range(20):
            kept = [[i] for i in range(20_000)]
            del kept

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert destroyed_by == [], "the widget was collected in the worker thread"

    young = [[] for _ in range(2 * gc.get_threshold()[0])]  # due for the GUI thread's next pass
    qtbot.waitUntil(lambda: destroyed_by != [], timeout=5000)
    assert destroyed_by == [threading.main_thread()]
    del young
