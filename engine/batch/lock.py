"""One batch per output folder: two batches writing into one OUT_DIR would mix their
settings in one manifest and race for the same files.

The lock is an OS file lock (flock on Unix, LockFileEx on Windows, via ``filelock``) on
``OUT_DIR/.styler-batch.lock``: the kernel drops it when its process ends in any way, even
SIGKILL or a power cut, so a lock left by a dead process never blocks the next run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from engine.batch.plan import BatchUsageError
from engine.errors import StylerError

LOCK_NAME = ".styler-batch.lock"


class OutputFolderBusy(BatchUsageError):
    """Another batch is writing into the same output folder (a usage error: exit 2)."""


@contextmanager
def output_folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold OUT_DIR's batch lock for the duration, or raise OutputFolderBusy at once."""
    path = Path(out_dir) / LOCK_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path, timeout=0)
        lock.acquire()
    except Timeout:
        raise OutputFolderBusy(
            f"{out_dir}: another styler batch is writing into this folder (lock {path}); "
            "wait for it to finish, or choose another -o"
        ) from None
    except OSError as exc:
        raise StylerError(f"{out_dir}: cannot write into the output folder ({exc.strerror or exc})") from None
    try:
        yield
    finally:
        lock.release()
