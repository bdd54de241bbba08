"""Files Styler ships inside its package: sample styles, icons, the desktop entry and the
AppStream metadata. Found through ``importlib.resources``, so they are where the package is:
a checkout, an installed wheel, or a PyInstaller bundle alike."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from engine.errors import StylerError
from engine.image_files import is_image_path

APP_ID = "io.github.styler.Styler"  # reverse-DNS id: AppStream component and desktop file name
ICON_NAME = "styler"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)  # packaging/make_icons.py renders these


def _folder(name: str) -> Path:
    folder = files(__name__) / name
    # Every way Styler is installed (checkout, wheel, PyInstaller folder) unpacks to real
    # files; the engine and Qt need paths, which a zipped package could not give.
    if not isinstance(folder, Path) or not folder.is_dir():
        raise StylerError(f"Styler's bundled files are missing ({folder}); reinstall Styler")
    return folder


def sample_styles() -> list[Path]:
    """The sample paintings, sorted by name."""
    return sorted(p for p in _folder("styles").iterdir() if is_image_path(p))


def sample_style(name: str) -> Path | None:
    """The sample style called ``name`` (file stem, e.g. ``swirl-night``), or None."""
    return next((p for p in sample_styles() if p.stem == name), None)


def icon_svg() -> Path:
    return _folder("icons") / f"{ICON_NAME}.svg"


def icon_png(size: int) -> Path:
    return _folder("icons") / f"{ICON_NAME}-{size}.png"


def desktop_entry() -> Path:
    return _folder("desktop") / f"{APP_ID}.desktop"


def metainfo() -> Path:
    return _folder("desktop") / f"{APP_ID}.metainfo.xml"
