"""``OUT_DIR/styler-manifest.jsonl``: what a batch did, one JSON line per input.

Each line: ``input`` (relative to IN_DIR), ``output`` (relative to OUT_DIR), ``status``
(``ok``, ``failed``, ``skipped``), ``error`` (why, or null), ``seconds``, ``settings_hash``,
``time`` (UTC), ``mask`` (relative to OUT_DIR) with --save-mask, and ``notes`` when the
render had something to say (e.g. a prompt that matched nothing).
Lines are appended and flushed to disk as each image finishes, so a crash loses at most
the image in flight; the file is always whole lines (see ManifestWriter). A sharded run
writes ``styler-manifest.rank<N>.jsonl`` per rank and
rank 0 appends them to the main file at the end; readers always look at both, so a run
killed before that merge still resumes correctly.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from engine.atomic import disk_full_error
from engine.errors import StylerError

MANIFEST_NAME = "styler-manifest.jsonl"
_PART_PREFIX = "styler-manifest.rank"
_TAIL_WINDOW = 64 * 1024  # entries are well under 1 KB

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class ManifestEntry:
    input: str
    output: str
    status: Status
    error: str | None = None
    seconds: float = 0.0
    settings_hash: str | None = None
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    notes: tuple[str, ...] = ()
    mask: str | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["notes"] = list(self.notes)
        for optional in ("notes", "mask"):
            if not data[optional]:
                del data[optional]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> ManifestEntry | None:
        """None for a line that is not a manifest entry (e.g. cut short by a power cut)."""
        try:
            data = json.loads(line)
            return cls(
                input=str(data["input"]),
                output=str(data["output"]),
                status=data["status"],
                error=data.get("error"),
                seconds=float(data.get("seconds", 0.0)),
                settings_hash=data.get("settings_hash"),
                time=str(data.get("time", "")),
                notes=tuple(data.get("notes", ())),
                mask=data.get("mask"),
            )
        except (ValueError, KeyError, TypeError):
            return None


def part_path(out_dir: Path, rank: int) -> Path:
    return out_dir / f"{_PART_PREFIX}{rank}.jsonl"


def is_manifest_file(path: Path) -> bool:
    return path.name == MANIFEST_NAME or (path.name.startswith(_PART_PREFIX) and path.suffix == ".jsonl")


def _part_files(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob(f"{_PART_PREFIX}*.jsonl"))


class ManifestWriter:
    """Appends entries; each is on disk (flushed and fsynced) before append returns.

    The file is always a sequence of whole lines: a line that cannot be written completely
    (a full disk) is cut off again before the error is raised, and a torn last line left by
    a power cut is removed when the file is opened, so the next entry never merges into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            _cut_torn_tail(path, self._fd)
        except OSError as exc:
            raise _write_error(path, exc) from None

    def append(self, entry: ManifestEntry) -> None:
        data = (entry.to_json() + "\n").encode("utf-8")
        before = os.fstat(self._fd).st_size
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            os.fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, before)
            except OSError:
                pass  # the reader and the next open still drop the torn line
            raise _write_error(self.path, exc) from None

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_error(path: Path, exc: OSError) -> StylerError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full_error(path)
    return StylerError(f"{path}: cannot write the batch manifest ({exc.strerror or exc})")


def _cut_torn_tail(path: Path, fd: int) -> None:
    """Drop an unfinished last line (no newline): what was cut short is redone anyway."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    with open(path, "rb") as f:
        f.seek(max(0, size - _TAIL_WINDOW))
        tail = f.read()
    if tail.endswith(b"\n"):
        return
    cut = tail.rfind(b"\n")
    if cut < 0 and size > _TAIL_WINDOW:
        with open(path, "rb") as f:  # a torn line longer than the window: find its start
            content = f.read()
        os.ftruncate(fd, content.rfind(b"\n") + 1)
        return
    os.ftruncate(fd, size - len(tail) + cut + 1)


def _read_file(path: Path) -> list[ManifestEntry]:
    """Whole lines only: a last line without its newline was cut short and is not an entry."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
            lines = [line for line in f if line.endswith("\n") and line.strip()]
    except (FileNotFoundError, NotADirectoryError):  # no manifest yet (or no folder to hold one)
        return []
    return [e for e in (ManifestEntry.from_json(line) for line in lines) if e]


def read_entries(out_dir: Path) -> list[ManifestEntry]:
    """Every entry of the main manifest, then of any rank parts not yet merged, in order."""
    entries = _read_file(out_dir / MANIFEST_NAME)
    for part in _part_files(out_dir):
        entries += _read_file(part)
    return entries


def recorded_outputs(out_dir: Path) -> set[str]:
    """Files (relative to OUT_DIR) that some batch wrote successfully: outputs and masks."""
    done = [e for e in read_entries(out_dir) if e.status == "ok"]
    return {e.output for e in done} | {e.mask for e in done if e.mask}


def merge_parts(out_dir: Path) -> int:
    """Append the rank parts' entries to the main manifest, then delete the parts. Call it
    only when no rank is still writing. A crash half-way leaves duplicate lines, which
    readers tolerate (the latest entry per output decides). Returns the entries moved."""
    parts = _part_files(out_dir)
    moved = 0
    if not parts:
        return moved
    with ManifestWriter(out_dir / MANIFEST_NAME) as main:
        for part in parts:
            for entry in _read_file(part):
                main.append(entry)
                moved += 1
    for part in parts:
        part.unlink(missing_ok=True)
    return moved


class ResumeIndex:
    """Decides, from earlier entries, which outputs are already done."""

    def __init__(self, entries: Iterable[ManifestEntry]) -> None:
        # The latest render attempt per output; 'skipped' lines only repeat an earlier one.
        self._attempts: dict[str, ManifestEntry] = {}
        for entry in entries:
            if entry.status != "skipped":
                self._attempts[entry.output] = entry

    def skip_reason(self, input_key: str, output_key: str, output_exists: bool, settings_hash: str) -> str | None:
        """Why this input needs no render now, or None to render it."""
        if not output_exists:
            return None
        last = self._attempts.get(output_key)
        if last is None:
            # Not ours (or written in the instant before its manifest line): keep it.
            return "output exists but is not in the manifest; --overwrite replaces it"
        if last.status == "ok" and last.settings_hash == settings_hash and last.input == input_key:
            return "done earlier with the same settings"
        return None
