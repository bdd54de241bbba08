"""One training process per run folder: an OS file lock on RUN_DIR/.lock.

The lock is a POSIX record lock (``fcntl.lockf``; ``msvcrt.locking`` on Windows). The
operating system drops it when the holding process ends however it ends (kill -9, a crash,
a power cut), so a dead process never leaves a run folder stuck. Record locks belong to a
process and are not inherited by forked children, so the data-loader workers of a killed
trainer cannot keep it alive either. The holder writes its pid into the file for messages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType

from engine.errors import StylerError

LOCK_FILE = ".lock"


class RunInUse(StylerError):
    """Another live process trains in this run folder."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip() or "0") or None
    except (OSError, ValueError):
        return None


class RunLock:
    """``with RunLock(run_dir):`` holds the run folder for this process (creating it)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None
        self._created = False

    def acquire(self) -> None:
        self._created = not self.run_dir.exists()
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. a file where a folder should be, a read-only disk
            raise StylerError(f"{self.run_dir}: cannot create the run folder ({exc.strerror or exc})") from None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise RunInUse(in_use_message(self.run_dir, _read_pid(self.path)))
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # A start refused before it wrote anything (bad input) leaves no folder behind.
        if self._created and [p.name for p in self.run_dir.iterdir()] == [LOCK_FILE]:
            self.path.unlink(missing_ok=True)
            self.run_dir.rmdir()
        os.close(self._fd)  # closing the descriptor drops the lock
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def in_use_message(run_dir: Path, pid: int | None) -> str:
    by = f" (process {pid})" if pid else ""
    return (
        f"{run_dir} is in use by another training process{by}; stop that run first, or choose "
        "another run folder"
    )


def lock_holder(run_dir: Path) -> int | None:
    """The pid training in ``run_dir`` now, or None when no live process holds it.

    Probes by taking the lock for an instant: only a live holder can refuse it."""
    path = Path(run_dir) / LOCK_FILE
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if _try_lock(fd):
            return None
        return _read_pid(path) or -1
    finally:
        os.close(fd)  # also drops the probe's own lock, if it got one
