"""Checking training folders before a run: how many images are usable, which are not.

Each file is opened and decoded at a reduced size (JPEG draft mode), so a folder of
thousands of photos is checked in seconds; the trainer skips the same unreadable files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from engine.errors import StylerError
from engine.image_files import is_image_path

_UNREADABLE = (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError)


@dataclass
class FolderCheck:
    folder: Path
    usable: int
    unreadable: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.usable} usable image{'s' if self.usable != 1 else ''}"
        if self.unreadable:
            names = ", ".join(p.name for p in self.unreadable[:5])
            more = f" and {len(self.unreadable) - 5} more" if len(self.unreadable) > 5 else ""
            text += f"; {len(self.unreadable)} unreadable, will be skipped: {names}{more}"
        return text


def _readable(path: Path) -> bool:
    try:
        with Image.open(path) as img:
            img.draft("RGB", (64, 64))  # JPEG decodes at 1/8 size: a check, not a render
            img.load()
        return True
    except _UNREADABLE:
        return False


def check_folder(folder: str | Path, what: str) -> FolderCheck:
    """Raises StylerError (what, which folder, what to do) when nothing in it can train."""
    folder = Path(folder).expanduser()
    if not str(folder).strip() or not folder.is_dir():
        raise StylerError(f"{folder}: {what} folder not found; choose a folder of images")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and is_image_path(p))
    if not paths:
        raise StylerError(
            f"{folder}: no images (JPEG, PNG, WebP, BMP, TIFF) in this {what} folder or below it; "
            "choose a folder that holds some"
        )
    unreadable = [p for p in paths if not _readable(p)]
    if len(unreadable) == len(paths):
        raise StylerError(f"{folder}: none of the {len(paths)} images in this {what} folder can be read")
    return FolderCheck(folder, len(paths) - len(unreadable), unreadable)
