"""Atomic, verified file writes: a temporary file in the target folder, checked, then
renamed over the target, so a crash, a full disk or a writer bug never leaves a
half-written or unreadable file in place, nor destroys the previous one."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.errors import StylerError

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class DiskFullError(StylerError):
    """No space left where a file was being written: later writes there would fail too."""


def _default_file_mode() -> int:
    # mkstemp creates 0600 files; a result should get the permissions any new file would.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(size, 1000) // 1000} kB"


def disk_full_error(path: Path, needed: int | None = None) -> DiskFullError:
    """The one line for a full disk: where, how much is free, about how much is needed."""
    folder = path.parent
    try:
        free = shutil.disk_usage(folder).free
        have = f"{_megabytes(free)} free there"
    except OSError:
        have = "free space unknown"
    need = f"; it needs about {_megabytes(needed)}" if needed else ""
    return DiskFullError(
        f"{path}: no space left on the device holding {folder} ({have}{need}); free some "
        "space and run the same command again"
    )


def write_atomically(
    path: Path,
    write: Callable[[str], object],
    verify: Callable[[str], None] | None = None,
    size_hint: int | None = None,
) -> None:
    """Call ``write(temporary_path)``, then ``verify(temporary_path)`` (which raises when the
    file is not what it should be), then rename over ``path``. Any failure leaves ``path``
    as it was and no temporary behind; OS errors become one StylerError naming ``path``
    (DiskFullError for a full disk, with ``size_hint`` bytes as the space it needs)."""
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if verify is not None:
            verify(tmp)
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        if exc.errno in _DISK_FULL:
            raise disk_full_error(path, size_hint) from None
        raise StylerError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str | None) -> None:
    if tmp is not None:
        Path(tmp).unlink(missing_ok=True)
