"""Regenerate ``docs/screenshot.png``: the real main window, rendered by the real engine.

Run it under a virtual X server (``scripts/screenshot.sh`` does that)::

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshot.py [--model M.safetensors]

Everything it writes (settings, demo photos, a random model when no --model is given) goes
to a temporary folder; the user's own settings and models are never touched. With random
weights the stylised result is noise, so pass the installed model for a representative
picture (``--model`` accepts a file or an installed model's name).
"""

from __future__ import annotations

import argparse
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
        draw.polygon([(0, h), *zip(xs.tolist(), ys.tolist()), (w, h)], fill=colour)
    draw.rectangle((0, int(h * 0.82), w, h), fill=(70, 110, 150))
    for _ in range(14):
        x, y = rng.uniform(0, w), h * rng.uniform(0.7, 0.8)
        draw.polygon([(x, y - 70), (x - 22, y), (x + 22, y)], fill=(25, 55, 35))
    image.filter(ImageFilter.GaussianBlur(1)).save(path, quality=92)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="style model file or installed name (default: random weights)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--size", default="1440x880", help="window size WxH")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="styler-screenshot-"))
    model = args.model
    if model:
        from engine.model_store import resolve_style_model

        model = str(resolve_style_model(model))  # before STYLER_HOME moves to the temp folder
    os.environ["STYLER_HOME"] = str(work / "home")

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    app = QApplication(sys.argv)
    app.setApplicationName("Styler")

    from styler_app.main_window import MainWindow
    from styler_app.resources import sample_styles
    from styler_app.session import EngineConfig, EngineSession
    from styler_app.settings import AppSettings

    if model is None:
        from engine.checkpoint import save_model
        from engine.network import StyleNet

        model = str(save_model(StyleNet(), work / "random.safetensors"))
    photos = work / "Holiday photos"
    photos.mkdir()
    for index in range(6):
        demo_photo(photos / f"IMG_{2041 + index}.jpg", seed=index)

    settings = AppSettings.at(work / "styler.ini")
    settings.preview_size = 512
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
    window.worker.result.connect(lambda job_id, payload: job_id == window._preview_job and done.append(True))
    window.preview_now()
    deadline = time.monotonic() + 300
    while not done and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    if not done:
        print("screenshot: the preview did not finish in time", file=sys.stderr)
        return 1
    window.browser.grid.setFocus()
    args.output.parent.mkdir(parents=True, exist_ok=True)

    def capture() -> None:
        """What the X server shows (ImageMagick's ``import``), cropped to the window."""
        geometry = window.frameGeometry()
        crop = f"{geometry.width()}x{geometry.height()}+{geometry.x()}+{geometry.y()}"
        if shutil.which("import"):
            subprocess.run(["import", "-window", "root", "-crop", crop, "+repage", str(args.output)], check=True)
        else:  # no ImageMagick: Qt renders the same widgets itself
            window.grab().save(str(args.output))
        app.quit()

    QTimer.singleShot(1500, capture)  # let thumbnails arrive and the window settle
    app.exec()
    window.shutdown()
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
