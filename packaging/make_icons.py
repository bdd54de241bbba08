"""Render every icon Styler ships from the one drawing, ``engine/resources/icons/styler.svg``:

- ``engine/resources/icons/styler-<N>.png`` for the sizes a Linux desktop looks up in the
  hicolor theme (and the window icon), shipped in the wheel;
- ``packaging/windows/styler.ico`` and ``packaging/macos/styler.icns`` for the one-folder
  app on those platforms.

Run after editing the SVG, then commit the results (``tests/test_icons.py`` fails while
they are out of date):

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "engine" / "resources" / "icons" / "styler.svg"
PNG_DIR = SVG.parent
# The hicolor sizes desktops ask for (freedesktop icon theme spec; GNOME/KDE use 16-512).
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO = ROOT / "packaging" / "windows" / "styler.ico"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # Windows Explorer's list, up to the 256 px tile
ICNS = ROOT / "packaging" / "macos" / "styler.icns"
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)  # an .iconset's sizes (@1x and @2x)


def png_name(size: int) -> str:
    return f"styler-{size}.png"


def render(svg: Path, size: int) -> Image.Image:
    """The SVG drawn at ``size``×``size`` by Qt's SVG renderer (anti-aliased, RGBA)."""
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _ = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGBA")


def render_all(svg: Path, png_dir: Path, ico: Path, icns: Path) -> list[Path]:
    """Write every icon file; returns their paths."""
    png_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in PNG_SIZES:
        path = png_dir / png_name(size)
        render(svg, size).save(path, optimize=True)
        written.append(path)
    # Each size drawn from the vector, not downscaled from the largest bitmap: small sizes stay crisp.
    ico_images = [render(svg, size) for size in ICO_SIZES]
    ico.parent.mkdir(parents=True, exist_ok=True)
    ico_images[-1].save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=ico_images[:-1])
    icns_images = [render(svg, size) for size in ICNS_SIZES]
    icns.parent.mkdir(parents=True, exist_ok=True)
    icns_images[-1].save(icns, format="ICNS", append_images=icns_images[:-1])
    return [*written, ico, icns]


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in render_all(SVG, PNG_DIR, ICO, ICNS):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
