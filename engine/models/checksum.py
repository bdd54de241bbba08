"""SHA-256 of a model file, and checking a downloaded file against what the registry says
it must be (size, full digest or digest prefix).

hashlib only (no http, no ssl): ``engine.models.store`` imports it, and `styler models list`
and every `--help` import the store."""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.errors import StylerError
from engine.models.registry import RemoteFile


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_download(remote: RemoteFile, path: Path) -> None:
    """Size and checksum; a file that fails is deleted (it can only be resumed wrongly)."""
    size = path.stat().st_size
    problem = None
    if remote.size is not None and size != remote.size:
        problem = f"is {size} bytes, expected {remote.size}"
    elif remote.sha256 or remote.sha256_prefix:
        actual = sha256_of(path)
        if remote.sha256 and actual != remote.sha256.lower():
            problem = f"has SHA-256 {actual}, expected {remote.sha256}"
        elif remote.sha256_prefix and not actual.startswith(remote.sha256_prefix.lower()):
            problem = f"has SHA-256 {actual}, expected one starting {remote.sha256_prefix}"
    if problem:
        path.unlink(missing_ok=True)
        raise StylerError(
            f"{remote.name}: downloaded file {problem}; it was damaged or replaced on the way "
            "(deleted, nothing installed): run the download again"
        )
