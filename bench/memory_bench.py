"""Peak memory of `styler stylize --max-size N` on very large photos (issue 12).

Makes a 12000 × 12000 PNG and a ~80 MP JPEG (10400 × 7800) in a temporary folder (never
committed), then runs the real command line on each in a fresh child process and reports
the child's peak resident memory (ru_maxrss). ``--tree`` picks the source tree to run, so
the same script measures an older checkout for a before/after comparison:

    python bench/memory_bench.py                      # this tree
    python bench/memory_bench.py --tree /work/main    # another checkout, e.g. before the fix
    python bench/memory_bench.py --device cuda        # on a GPU (host memory still reported)
"""

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _smooth(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like image (gradients plus mild noise) built in row bands to spare memory."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height))
    xx = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    for top in range(0, height, 1000):
        rows = min(1000, height - top)
        yy = np.linspace(top / height, (top + rows) / height, rows, dtype=np.float32)[:, None]
        band = np.stack([xx + 0 * yy, yy + 0 * xx, (xx + yy) / 2], axis=2) * 200
        band += rng.normal(0, 8, band.shape).astype(np.float32)
        image.paste(Image.fromarray(np.clip(band, 0, 255).astype(np.uint8)), (0, top))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree to run (default: this one)")
    parser.add_argument("--max-size", type=int, default=1024)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", type=Path, help="model file (default: random weights in the release layout)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="styler-memory-bench-") as tmp:
        folder = Path(tmp)
        model = args.model
        if model is None:
            from engine.checkpoint import import_release
            from tests.release_weights import write_release

            write_release(folder / "release" / "checkpoints", seed=0, encoder_in_parent=True)
            model = import_release(folder / "release" / "checkpoints", folder / "model.safetensors")
        style = folder / "style.png"
        _smooth(512, 384, seed=1).save(style)
        photos = {"12000×12000 PNG": folder / "big.png", "10400×7800 JPEG (81 MP)": folder / "big.jpg"}
        _smooth(12000, 12000, seed=2).save(photos["12000×12000 PNG"], compress_level=1)
        _smooth(10400, 7800, seed=3).save(photos["10400×7800 JPEG (81 MP)"], quality=90)

        env = {**os.environ, "PYTHONPATH": str(args.tree)}
        print(f"tree {args.tree}, --max-size {args.max_size}, device {args.device}")
        print("| photo | peak resident memory | seconds | exit |")
        print("|---|---:|---:|---:|")
        for label, photo in photos.items():
            # Each measurement in its own grandchild, so RUSAGE_CHILDREN holds only that run.
            command = [
                sys.executable, "-c",
                "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)",
                sys.executable, "-m", "engine.cli", "stylize", str(photo), "--style", str(style),
                "--model", str(model), "--max-size", str(args.max_size), "--device", args.device,
                "-o", str(folder / f"out{photo.suffix}"), "--overwrite",
            ]
            started = time.monotonic()
            done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=args.tree)
            seconds = time.monotonic() - started
            peak_kib, status = done.stdout.split()[-2:]
            note = "" if status == "0" else f" ({done.stderr.strip().splitlines()[-1][:120]})"
            print(f"| {label} | {int(peak_kib) / 2**20:.2f} GiB | {seconds:.1f} | {status}{note} |")


if __name__ == "__main__":
    main()
