"""Reading growing files incrementally: each ``read()`` parses only the bytes appended
since the last one (never the whole file again), so a live plot and a live log stay cheap
however long the run. A half-written last line waits for its newline. When the file is
replaced or shortened (``--resume`` drops the metrics after its checkpoint), the reader
starts over and says so, so the view can be rebuilt from what the file now holds."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

Record = dict[str, Any]
T = TypeVar("T")


@dataclass
class Update(Generic[T]):
    items: list[T] = field(default_factory=list)
    reset: bool = False  # the file was replaced or cut: drop everything read before
    pending: bool = False  # more complete lines wait beyond ``max_bytes``: read again soon


class LineTail:
    """Complete lines appended to a text file since the last ``read()``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file being read
        self._offset = 0

    def read(self, max_bytes: int | None = None) -> Update[str]:
        """``max_bytes`` bounds one call's work (a long history then loads over several
        calls, each short enough not to stall a window); None reads all there is."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            reset = self._identity is not None
            self._identity, self._offset = None, 0
            return Update(reset=reset)
        identity = (info.st_dev, info.st_ino)
        update: Update[str] = Update()
        if identity != self._identity or info.st_size < self._offset:
            update.reset = self._identity is not None
            self._identity, self._offset = identity, 0
        if info.st_size == self._offset:
            return update
        available = info.st_size - self._offset
        limit = available if max_bytes is None else min(available, max_bytes)
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read(limit)
            if b"\n" not in chunk and limit < available:  # one line longer than max_bytes
                chunk += f.read(available - limit)
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        update.pending = len(chunk) < available  # stopped at the cap: more lines may wait
        update.items = chunk[:complete].decode("utf-8", errors="replace").splitlines()
        return update


class MetricsTail:
    """Records appended to a metrics.jsonl since the last ``read()``."""

    def __init__(self, path: Path) -> None:
        self._lines = LineTail(path)

    def read(self, max_bytes: int | None = None) -> Update[Record]:
        update = self._lines.read(max_bytes)
        lines = [line for line in update.items if line.strip()]
        try:
            # One parse of all new lines as a JSON array: many times faster than line by line.
            records = json.loads("[" + ",".join(lines) + "]")
        except ValueError:
            records = []
            for line in lines:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a damaged line must not stop the plot; the file keeps it for a person
        return Update(records, update.reset, update.pending)
