"""Images per second of a folder job, with and without what ``styler batch`` adds.

  naive     per image: decode, encode the style again, render, save (no caching, no overlap)
  cached    the style encoded once; decode, render, save still one after another
  batch     ``run_batch``: style once + decoding ahead on a loader thread + saving behind on a
            writer thread (what ``styler batch`` runs)

Random full-size weights (the same compute as the released model), synthetic JPEG photos.

    .venv/bin/python bench/batch_bench.py                       # 200 photos at 512 px
    .venv/bin/python bench/batch_bench.py --count 16 --size 256 --device cpu
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.batch import plan_batch, run_batch  # noqa: E402
from engine.checkpoint import save_model  # noqa: E402
from engine.devices import describe_device  # noqa: E402
from engine.image_io import load_image  # noqa: E402
from engine.network import StyleNet  # noqa: E402
from engine.options import RenderOptions  # noqa: E402
from engine.pipeline import Pipeline, save_result  # noqa: E402
from engine.stylizer import Stylizer  # noqa: E402


def make_photos(folder: Path, count: int, size: int, seed: int = 0) -> list[Path]:
    """Smooth gradients plus noise, 4:3, saved as JPEG like camera files."""
    rng = np.random.default_rng(seed)
    h, w = size * 3 // 4, size
    yy, xx = np.mgrid[0:h, 0:w] / size
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        phase = rng.uniform(0, 6.28, 3)
        base = np.stack([np.sin(4 * xx + phase[0]), np.cos(3 * yy + phase[1]), np.sin(2 * (xx + yy) + phase[2])], 2)
        pixels = np.clip(127 + 90 * base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
        path = folder / f"photo{i:04d}.jpg"
        Image.fromarray(pixels).save(path, quality=92)
        paths.append(path)
    return paths


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def sequential(pipeline: Pipeline, style_rgb: np.ndarray, photos: list[Path], out_dir: Path,
               recache_style: bool) -> float:
    """Seconds for the plain loop; with recache_style the style is encoded for every photo
    (a fresh cache key forces the work the Stylizer's cache would save)."""
    stylizer = pipeline.stylizer
    stylizer.clear_caches()  # every variant pays for its own style encoding
    options = RenderOptions()
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stylizer.set_style(style_rgb, key="bench-style")
    for i, photo in enumerate(photos):
        if recache_style:
            stylizer.set_style(style_rgb, key=f"bench-style-{i}")
        result = pipeline.render(load_image(photo), options)
        save_result(out_dir / photo.name, result)
    sync(stylizer.device)
    return time.perf_counter() - start


def batched(pipeline: Pipeline, style: Path, in_dir: Path, out_dir: Path, prefetch: int) -> float:
    plan = plan_batch(in_dir, out_dir, style)
    pipeline.stylizer.clear_caches()
    start = time.perf_counter()
    summary = run_batch(plan, pipeline, RenderOptions(), overwrite=True, prefetch=prefetch)
    sync(pipeline.stylizer.device)
    if summary.failed:
        raise SystemExit(f"bench batch failed: {summary.failures[0]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="photos in the folder (default 200)")
    parser.add_argument("--size", type=int, default=512, help="photos' longer side in px (default 512)")
    parser.add_argument("--style-size", type=int, default=512, help="style's longer side (default 512)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="styler-batch-bench-") as tmp:
        work = Path(tmp)
        torch.manual_seed(0)
        model = save_model(StyleNet(), work / "model.safetensors")
        photos = make_photos(work / "in", args.count, args.size)
        style = make_photos(work / "style", 1, args.style_size, seed=1)[0]
        stylizer = Stylizer.from_file(model, device=args.device, precision=args.precision,
                                      style_size=args.style_size)
        pipeline = Pipeline(stylizer)
        style_rgb = load_image(style).rgb
        # Warm-up: kernels chosen, allocator primed, so the first variant is not penalised.
        sequential(pipeline, style_rgb, photos[:2], work / "warm", recache_style=False)

        seconds = {
            "naive (style per image, no overlap)": sequential(pipeline, style_rgb, photos, work / "a", True),
            "cached style, no overlap": sequential(pipeline, style_rgb, photos, work / "b", False),
            "styler batch (cached + prefetch + writer)": batched(pipeline, style, work / "in", work / "c", 2),
        }
    device = describe_device(stylizer.device)
    print(f"{args.count} photos {args.size}x{args.size * 3 // 4}, style {args.style_size} px, "
          f"{device}, torch {torch.__version__}")
    for name, s in seconds.items():
        print(f"  {name:44s} {args.count / s:7.2f} img/s  ({s:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps({
            "count": args.count, "size": args.size, "style_size": args.style_size, "device": device,
            "images_per_second": {k: args.count / v for k, v in seconds.items()},
        }, indent=2))


if __name__ == "__main__":
    main()
