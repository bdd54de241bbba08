"""The shipped bitmaps are the SVG, rendered by packaging/make_icons.py, and up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

from engine.resources import ICON_SIZES, icon_png, icon_svg

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
make_icons = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_icons)


def test_committed_icons_match_a_fresh_render_of_the_svg(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # qapp first: a QGuiApplication made by the renderer would break later widget tests.
    assert make_icons.PNG_SIZES == ICON_SIZES
    make_icons.render_all(icon_svg(), tmp_path / "png", tmp_path / "styler.ico", tmp_path / "styler.icns")
    for size in ICON_SIZES:
        with Image.open(icon_png(size)) as shipped, Image.open(tmp_path / "png" / make_icons.png_name(size)) as fresh:
            assert shipped.size == fresh.size == (size, size)
            difference = np.abs(np.asarray(shipped.convert("RGBA"), float) - np.asarray(fresh.convert("RGBA"), float))
            assert difference.mean() < 1.0, f"{icon_png(size).name} is stale: run packaging/make_icons.py"


def test_windows_and_macos_icons_hold_every_size() -> None:
    with Image.open(make_icons.ICO) as ico:
        assert set(ico.info["sizes"]) == {(s, s) for s in make_icons.ICO_SIZES}
    with Image.open(make_icons.ICNS) as icns:
        assert {(w, h) for w, h, _ in icns.info["sizes"]} >= {(16, 16), (32, 32), (128, 128), (256, 256), (512, 512)}
        assert (512, 512, 2) in icns.info["sizes"]  # the 1024 px Retina tile
