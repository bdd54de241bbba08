"""Check a built one-folder app the way a user meets it: version, sample styles, a headless
stylisation with a tiny random model, a prompted one with a tiny CLIPSeg (so transformers
made it into the bundle), and the window opening with a photo under Xvfb.

    python packaging/check_app.py dist/cpu/styler/styler [--display :104] [--screenshot shot.png]

Run with the project's venv (it builds the tiny models with torch and transformers). Not in
`make test`: building the app takes longer than CI's budget (see packaging/README.md)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import __version__  # noqa: E402
from engine.checkpoint import save_model  # noqa: E402
from engine.network import StyleNet  # noqa: E402
from tests.conftest import random_photo  # noqa: E402
from tests.tiny_clipseg import write_tiny_clipseg  # noqa: E402


def run(app: Path, *args: str, cwd: Path, env: dict[str, str]) -> str:
    started = time.perf_counter()
    result = subprocess.run([str(app), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    print(f"$ styler {' '.join(args)}   ({time.perf_counter() - started:.1f} s, exit {result.returncode})")
    print("  " + (result.stdout + result.stderr).strip().replace("\n", "\n  "))
    if result.returncode != 0:
        raise SystemExit(f"FAILED: styler {' '.join(args)}")
    return result.stdout


def window_shows(app: Path, photo: Path, display: str, env: dict[str, str], screenshot: Path | None) -> None:
    """Start `styler photo.jpg` on an Xvfb display; wait for the Styler window; screenshot."""
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
    try:
        time.sleep(1.0)
        gui_env = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        started = time.perf_counter()
        proc = subprocess.Popen([str(app), str(photo)], env=gui_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            while not subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Styler$"], env=gui_env,
                                     capture_output=True).stdout.strip():
                if proc.poll() is not None or time.perf_counter() - started > 120:
                    raise SystemExit(f"FAILED: no window; app output:\n{proc.stdout.read().decode() if proc.stdout else ''}")
                time.sleep(0.05)
            print(f"$ styler {photo.name}   window shown after {time.perf_counter() - started:.2f} s")
            time.sleep(8)  # thumbnails and the first-run dialog settle
            if screenshot:
                subprocess.run(["import", "-display", display, "-window", "root", str(screenshot)], check=True)
                print(f"  screenshot: {screenshot}")
        finally:
            proc.terminate()
            proc.wait(30)
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", type=Path, help="the built executable, e.g. dist/cpu/styler/styler")
    parser.add_argument("--display", default=":104")
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    app = args.app.resolve()
    bundle = app.parent
    with tempfile.TemporaryDirectory(prefix="styler-app-check-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.update(HOME=str(work / "home"), STYLER_HOME=str(work / "styler-home"), QT_QPA_PLATFORM="offscreen")
        model = save_model(StyleNet(), work / "tiny.safetensors")
        clipseg = work / "tiny-clipseg"
        write_tiny_clipseg(clipseg)
        photo = random_photo(work / "photo.jpg", (96, 64), seed=3)
        print(f"app: {bundle}  ({sum(f.stat().st_size for f in bundle.rglob('*') if f.is_file()) / 1e6:.0f} MB)")

        assert run(app, "--version", cwd=work, env=env).strip() == f"styler {__version__}"
        styles = dict(line.split(maxsplit=1) for line in run(app, "styles", cwd=work, env=env).splitlines())
        assert len(styles) >= 5 and all(Path(p).is_relative_to(bundle) and Path(p).is_file() for p in styles.values())
        run(app, "stylize", "photo.jpg", "--style", "swirl-night", "--model", str(model), "--device", "cpu",
            "--style-size", "128", "-o", "out.png", cwd=work, env=env)
        out, original = np.asarray(Image.open(work / "out.png"), float), np.asarray(Image.open(photo), float)
        assert out.shape == original.shape and np.abs(out - original).mean() > 1
        run(app, "stylize", "photo.jpg", "--style", "mosaic-glass", "--model", str(model), "--prompt", "the sky",
            "--segmenter", str(clipseg), "--threshold", "0.0", "--device", "cpu", "--style-size", "128",
            "--save-mask", "-o", "region.png", cwd=work, env=env)
        assert (work / "region.png").is_file() and (work / "region.mask.png").is_file()
        window_shows(app, photo, args.display, env, args.screenshot)
    print("app check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
