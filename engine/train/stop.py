"""Stop requests: SIGINT/SIGTERM, or a RUN_DIR/STOP file (what the GUI creates). The loop
polls ``requested()`` between steps, saves a checkpoint and exits cleanly.

A watcher may sit ``within`` another: an ablation watches OUT/STOP and the signals for its
whole study, and each variant's run also stops on what stops the study."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

STOP_FILE = "STOP"


# What signal.signal returns and accepts: a function, SIG_DFL/SIG_IGN, or None (set outside Python).
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class StopWatcher:
    def __init__(self, run_dir: Path, within: StopWatcher | None = None) -> None:
        self.stop_file = run_dir / STOP_FILE
        self.within = within
        self._signalled = False
        self._previous: dict[int, _Handler] = {}

    def __enter__(self) -> StopWatcher:
        # Signal handlers can only be set from the main thread (an embedding app may not be).
        # Nested, the outer watcher keeps them: a second Ctrl-C must still abort at once,
        # which an inner handler restoring the outer one would not do.
        if self.within is None and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signalled = True
        # A second Ctrl-C should not wait for the checkpoint: give the old handler back.
        signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))

    def requested(self) -> bool:
        return self._signalled or self.stop_file.exists() or (self.within is not None and self.within.requested())

    def consume(self) -> None:
        """Remove this watcher's STOP file once honoured, so that --resume does not stop at
        once (an outer watcher's file is its owner's to remove)."""
        self.stop_file.unlink(missing_ok=True)
