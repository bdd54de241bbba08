"""Which files are images, by name alone: no numpy or PIL, so start-up code (`styler
photo.jpg`, `styler --help`) and folder listings can ask without loading a decoder."""

from __future__ import annotations

from pathlib import Path

FORMATS_BY_SUFFIX = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
IMAGE_SUFFIXES = frozenset(FORMATS_BY_SUFFIX)


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES
