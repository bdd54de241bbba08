"""Python's cycle collector, run only on the GUI thread.

CPython runs a collection in whichever thread happens to allocate when a threshold is
crossed. The app has several threads running Python (the engine worker, thumbnail and
batch pools), and garbage cycles often hold Qt widgets (a closed dialog referenced by its
own slot lambdas). Collected in one of those threads, the widget's C++ object is destroyed
outside the GUI thread and the process segfaults; faulthandler then points at whatever the
other thread was doing. A stress script reproduced it within seconds; with this collector it
ran clean. (It was suspected of the segfaults seen in test runs, but one more occurred with
it in place; the next one, caught under gdb, was a queued call to an undeclared slot, closed
in styler_app/worker.py.)

So automatic collection is switched off and the GUI thread collects on a timer, with
CPython's own generation thresholds (pyqtgraph's GarbageCollector does exactly that).
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_garbage_on_gui_thread(interval_s: float = 1.0) -> None:
    """Call once from the GUI thread, with a Q(Core)Application alive and before any other
    thread runs Python. Later calls do nothing."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
