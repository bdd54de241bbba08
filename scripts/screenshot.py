"""Regenerate ``docs/screenshot.png``: the real main window, rendered by the real engine.

Run it under a virtual X server (``scripts/screenshot.sh`` does that)::

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshot.py [--model M.safetensors]

Everything it writes (settings, demo photos, a random model when no --model is given) goes
to a temporary folder; the user's own settings and models are never touched. With random
weights the stylised result is noise, so pass the installed model for a representative
picture (``--model`` accepts a file or an installed model's name).

``--scene`` captures one of the dialogs or the Jobs panel instead (for checking layouts;
only the main window goes into the docs), and ``--dark`` forces a dark palette.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def demo_photo(path: Path, seed: int, size: tuple[int, int] = (960, 640)) -> None:
    """A synthetic landscape: sky gradient, sun, layered hills, a lake, a few trees."""
    rng = np.random.default_rng(seed)
    w, h = size
    sky_top, sky_bottom = np.array([70, 120, 200]) + rng.integers(-20, 20, 3), np.array([250, 200, 150])
    t = np.linspace(0, 1, h)[:, None, None]
    pixels = (sky_top * (1 - t) + sky_bottom * t).repeat(w, axis=1)
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    sun_x = int(rng.uniform(0.2, 0.8) * w)
    draw.ellipse((sun_x - 50, 140, sun_x + 50, 240), fill=(255, 236, 180))
    for layer, colour in enumerate([(90, 110, 140), (60, 100, 80), (40, 80, 50)]):
        base = h * (0.45 + 0.12 * layer)
        xs = np.arange(0, w + 8, 8)
        ys = base + 40 * np.sin(xs / (90 + 30 * layer) + rng.uniform(0, 6)) + 20 * np.sin(xs / 37 + layer)
        draw.polygon([(0, h), *zip(xs.tolist(), ys.tolist(), strict=True), (w, h)], fill=colour)
    draw.rectangle((0, int(h * 0.82), w, h), fill=(70, 110, 150))
    for _ in range(14):
        x, y = rng.uniform(0, w), h * rng.uniform(0.7, 0.8)
        draw.polygon([(x, y - 70), (x - 22, y), (x + 22, y)], fill=(25, 55, 35))
    image.filter(ImageFilter.GaussianBlur(1)).save(path, quality=92)


SCENES = ("main", "first-run", "settings", "system-info", "jobs")


def use_dark_palette(app: QApplication) -> None:  # type: ignore[name-defined]  # noqa: F821
    """What a dark desktop theme hands Qt: the Fusion style with dark window colours."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in (
        (role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"), (role.Base, "#1e1e1e"),
        (role.AlternateBase, "#2f2f2f"), (role.Text, "#e6e6e6"), (role.Button, "#353535"),
        (role.ButtonText, "#e6e6e6"), (role.Highlight, "#2f65ca"), (role.HighlightedText, "#ffffff"),
        (role.PlaceholderText, "#8c8c8c"), (role.ToolTipBase, "#353535"), (role.ToolTipText, "#e6e6e6"),
        (role.Mid, "#3c3c3c"), (role.Dark, "#1a1a1a"), (role.Light, "#505050"),
    ):
        palette.setColor(name, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#7a7a7a"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor("#7a7a7a"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#7a7a7a"))
    app.setPalette(palette)


def set_scene(scene: str, window, photos: Path, work: Path):  # type: ignore[no-untyped-def]
    """Open what ``scene`` names over the ready window; returns the widget to capture."""
    from styler_app.dialogs.settings_dialog import SettingsDialog
    from styler_app.dialogs.system_info import SystemInfoDialog, format_environment
    from styler_app.requests import MissingModel

    if scene == "first-run":
        window.models.show_dialog([
            MissingModel("adaattn-coco-wikiart", "style", "AdaAttN (COCO + WikiArt)", "94 MB download", "Apache-2.0", ""),
            MissingModel("clipseg-rd64-refined", "segmenter", "CLIPSeg rd64 refined", "603 MB download", "MIT", ""),
        ])
        return window.models.dialog
    if scene == "settings":
        dialog = SettingsDialog(window.settings, window.environment.get("devices", []), str(work / "home" / "models"), window)
    elif scene == "system-info":
        dialog = SystemInfoDialog(format_environment(window.environment, str(work / "logs")), window)
    elif scene == "jobs":
        (photos / "IMG_0001.jpg").write_bytes(b"not really a jpeg")  # sorts first: fails at once
        window.saving.stylize_folder(photos, work / "styled")
        window.saving.save_to(work / "saved" / "IMG_2041.styled.jpg")  # queued behind the folder job
        return window
    else:
        return window
    dialog.show()
    return dialog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="style model file or installed name (default: random weights)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--size", default="1440x880", help="window size WxH")
    parser.add_argument("--preview-size", type=int, default=512, help="preview's longer side (smaller is faster)")
    parser.add_argument("--scene", choices=SCENES, default="main", help="what to capture")
    parser.add_argument("--dark", action="store_true", help="force a dark palette (Fusion style)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="styler-screenshot-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # a random model and photos: 120 MB
    model = args.model
    if model:
        from engine.models.store import resolve_style_model

        model = str(resolve_style_model(model))  # before STYLER_HOME moves to the temp folder
    os.environ["STYLER_HOME"] = str(work / "home")

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    app = QApplication(sys.argv)
    app.setApplicationName("Styler")
    if args.dark:
        use_dark_palette(app)

    from engine.resources import sample_styles
    from styler_app.main_window import MainWindow
    from styler_app.session import EngineConfig, EngineSession
    from styler_app.settings import AppSettings

    if model is None:
        from engine.checkpoint import save_model
        from engine.network import StyleNet

        model = str(save_model(StyleNet(), work / "random.safetensors"))
    # A stand-in home folder, so the folder tree looks like a person's and not like /tmp.
    os.environ["HOME"] = str(work / "user")
    for name in ("Documents", "Downloads", "Music", "Pictures/Screenshots", "Pictures/Holiday photos", "Videos"):
        (work / "user" / name).mkdir(parents=True)
    photos = work / "user" / "Pictures" / "Holiday photos"
    for index in range(6):
        demo_photo(photos / f"IMG_{2041 + index}.jpg", seed=index)

    settings = AppSettings.at(work / "styler.ini")
    settings.preview_size = args.preview_size
    config = EngineConfig(model_path=model, style_size=384)
    window = MainWindow(settings, lambda: EngineSession(config), check_models=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.move(0, 0)
    window.show()
    window.start()
    window.open_folder(photos)
    window.styles.select_style(next(p for p in sample_styles() if "swirl" in p.stem))
    window.styles.strength.setValue(0.85)
    window.preview.split.setValue(40)

    done: list[bool] = []
    window.previews.shown.connect(lambda result: done.append(True))
    window.previews.preview_now()
    deadline = time.monotonic() + 300
    while not done and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    if not done:
        print("screenshot: the preview did not finish in time", file=sys.stderr)
        return 1
    window.browser.grid.setFocus()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    shown = set_scene(args.scene, window, photos, work)

    def capture() -> None:
        """What the X server shows (ImageMagick's ``import``), cropped to the window."""
        geometry = shown.frameGeometry()
        crop = f"{geometry.width()}x{geometry.height()}+{geometry.x()}+{geometry.y()}"
        if shutil.which("import"):
            subprocess.run(["import", "-window", "root", "-crop", crop, "+repage", str(args.output)], check=True)
        else:  # no ImageMagick: Qt renders the same widgets itself
            shown.grab().save(str(args.output))
        app.exit(0)  # not quit(): that would ask the window to close, and it asks about running jobs

    QTimer.singleShot(1500 if args.scene != "jobs" else 6000, capture)  # let thumbnails arrive and the window settle
    app.exec()
    window.shutdown()
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
