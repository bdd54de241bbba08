"""Where the shipped sample styles and icons are: next to the source tree, or inside a
PyInstaller bundle (``sys._MEIPASS``)."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.image_io import is_image_path


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_styles() -> list[Path]:
    folder = resources_dir() / "styles"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if is_image_path(p))


def app_icon_path() -> Path:
    return resources_dir() / "icons" / "styler.png"
