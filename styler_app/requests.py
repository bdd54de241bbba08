"""The values that cross between the GUI thread and the engine worker: what to render
(``RenderRequest``) and what came back (results, missing models). Plain data; nothing here imports torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.options import RenderOptions

if TYPE_CHECKING:  # QImage only travels inside results; not needed to build a request
    from PySide6.QtGui import QImage


@dataclass(frozen=True)
class RenderRequest:
    """One photo to render: which photo, which style, the engine's options, and the brushed
    mask when the person painted one."""

    content: Path
    style: Path
    options: RenderOptions = RenderOptions()
    # The brushed mask, (h, w) float in [0, 1] at any size; replaces the prompt's mask.
    mask_edit: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass
class PreviewResult:
    request: RenderRequest
    original: QImage
    result: QImage
    mask: np.ndarray | None  # the prompt's own mask at preview size (before any brushing)
    notes: list[str]
    seconds: float
    photo_size: tuple[int, int] = (0, 0)  # (width, height) of the full photo: clicks are in its pixels
    quick: bool = False  # the low-resolution first pass, scaled up; the full preview follows


@dataclass
class SaveResult:
    destination: Path
    notes: list[str]

    def __str__(self) -> str:
        return str(self.destination)


@dataclass
class BatchResult:
    output: Path
    ok: int
    failed: int
    skipped: int

    def __str__(self) -> str:
        return f"{self.ok} stylised, {self.skipped} already done, {self.failed} failed → {self.output}"


@dataclass
class SelectionResult:
    output: Path
    ok: int
    failed: int

    def __str__(self) -> str:
        return f"{self.ok} saved, {self.failed} failed → {self.output}"


@dataclass(frozen=True)
class MissingModel:
    """The GUI's copy of a registry entry (the engine's object stays in the worker)."""

    name: str
    kind: str  # "style", "segmenter", ...
    title: str
    size_text: str
    license: str
    manual: str
