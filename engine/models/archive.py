"""Safe extraction of the few files Styler needs from a downloaded zip.

An archive from the internet is hostile until proven otherwise: a member may be named
``/etc/x`` or ``../../x``, be a symlink, or decompress to far more than its header says.
Any such member makes the whole archive refused; of the rest, only the wanted file names
are written (flattened into the target folder, since authors nest them differently)."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from engine.errors import StylerError

MAX_TOTAL_BYTES = 4_000_000_000  # far above any model we fetch, far below filling a disk
_COPY_CHUNK = 1 << 20


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in path.parts:
        return "climbs out of the folder with '..'"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    return None


def extract_wanted(
    archive: Path,
    target: Path,
    wanted: Iterable[str],
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> dict[str, Path]:
    """Write each member whose base name is in ``wanted`` to ``target/<base name>``.

    Every member is checked first, so a hostile archive writes nothing. Returns base name ->
    path for the files found; a wanted name found twice is refused (which one is meant?)."""
    wanted = set(wanted)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise StylerError(f"{archive}: not a readable zip archive ({exc}); download it again") from None
    with zf:
        members = zf.infolist()
        declared = 0
        chosen: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            reason = _unsafe_reason(info)
            if reason:
                raise StylerError(f"{archive}: refused: member {info.filename!r} {reason}")
            declared += info.file_size
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if info.is_dir() or base not in wanted:
                continue
            if base in chosen:
                raise StylerError(
                    f"{archive}: holds {base} twice ({chosen[base].filename}, {info.filename}); "
                    "extract the one you mean and import the folder"
                )
            chosen[base] = info
        if declared > max_total_bytes:
            raise StylerError(f"{archive}: refused: it would unpack to {declared} bytes (limit {max_total_bytes})")
        target.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        budget = max_total_bytes
        for base, info in chosen.items():
            out = target / base
            tmp = target / f".{base}.part"
            try:
                with zf.open(info) as src, open(tmp, "wb") as dst:
                    # Count what really comes out: a header can lie about the size.
                    while block := src.read(_COPY_CHUNK):
                        budget -= len(block)
                        if budget < 0:
                            raise StylerError(f"{archive}: refused: {info.filename} unpacks beyond {max_total_bytes} bytes")
                        dst.write(block)
                os.replace(tmp, out)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
                raise StylerError(f"{archive}: damaged member {info.filename} ({exc}); download it again") from None
            finally:
                tmp.unlink(missing_ok=True)
            written[base] = out
    return written
