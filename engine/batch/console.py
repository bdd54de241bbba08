"""The terminal side of ``styler batch``: the progress display and Ctrl-C handling."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

from engine.batch.runner import BatchEvent, BatchSummary

EXIT_INTERRUPTED = 130
# Without a terminal (logs, CI, nohup), one line this often instead of a bar.
PLAIN_INTERVAL_S = 10.0


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class ConsoleProgress:
    """A BatchEvent handler: a tqdm bar on a terminal, periodic plain lines otherwise.
    Failures and notes are always printed; ``quiet`` keeps only the failures."""

    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None,
                 interval: float = PLAIN_INTERVAL_S) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interval = interval
        self._last_line = time.monotonic()
        self._bar: tqdm | None = None
        if not quiet and self.stream.isatty():
            self._bar = tqdm(total=total, unit="img", file=self.stream, dynamic_ncols=True,
                             desc="styler batch", smoothing=0.1)

    def __call__(self, event: BatchEvent) -> None:
        if event.kind != "done":
            return
        if event.status == "failed":
            error = event.error or "failed"
            # Errors from the engine usually name the file already.
            where = "" if str(event.item.source) in error else f"{event.item.source}: "
            self._print(f"styler: failed: {where}{error}")
        if event.notes and not self.quiet:
            for note in event.notes:
                self._print(f"styler: {event.item.source}: {note}")
        if self._bar is not None:
            self._bar.set_postfix(ok=event.ok, failed=event.failed, skipped=event.skipped, refresh=False)
            self._bar.update(1)
        elif not self.quiet:
            now = time.monotonic()
            if now - self._last_line >= self.interval or event.done == event.total:
                self._last_line = now
                self._print(self.line(event))

    @staticmethod
    def line(event: BatchEvent) -> str:
        eta = f", ETA {format_duration(event.eta)}" if event.eta is not None else ""
        return (
            f"styler batch: {event.done}/{event.total} images (ok {event.ok}, failed {event.failed}, "
            f"skipped {event.skipped}), {event.rate:.2f} img/s{eta}"
        )

    def _print(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def summary_line(summary: BatchSummary) -> str:
    state = "stopped" if summary.stopped else "interrupted" if summary.cancelled else "done"
    left = summary.total - summary.ok - summary.failed - summary.skipped
    tail = f", {left} not started (run the same command again to continue)" if left else ""
    return (
        f"styler batch {state}: {summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped "
        f"of {summary.total} in {format_duration(summary.seconds)}{tail}"
    )


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM, so the batch stops cleanly between (or
    inside) images; a second signal ends the process at once with status 130, even while
    a loader or writer thread is stuck in a system call (an unwinding exit would wait for
    it). What is on disk stays consistent: outputs are renamed into place whole, manifest
    lines are written by single calls on this thread, a left temporary is removed by the
    next run, and the folder lock is released by the kernel. Handlers are only installed
    from the main thread, where Python delivers signals."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            print("styler: stopped at once", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        print("styler: stopping (the image in progress is dropped; run again to resume); "
              "signal again to stop at once",
              file=sys.stderr, flush=True)

    signals = [signal.SIGINT, signal.SIGTERM]
    previous = {s: signal.signal(s, handle) for s in signals}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
