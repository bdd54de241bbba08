"""The side-by-side stylisation bench on a GPU, in one short run: the AdaAttN authors' forward
pass against Styler (fp32 and bf16), plus images per second, written to ``--out``.

    python bench/gpu_bench.py --out gpu_results.md         # on the GPU machine, ~2 minutes

What it measures (same code and weights as bench/stylize_bench.py; real photo and painting
from bench/images/, style 512 × 512):
- per content size (512² … 4096²): authors (fp32, their random subset, seed 6666), Styler's
  default fp32 and bf16 (the release's subset with their seed: the same work), Styler with
  pooled style attention, and Styler per photo of a folder (style encoded once, fp32 and
  bf16); one untimed warm-up (cuDNN picks its kernels), then medians of ``--rounds``;
  allocators stay warm between runs;
- 8192²: Styler only (the authors' level-3 matrices alone would need ≈ 140 GB);
- images per second at 1024²: a run of different photos in one style (Styler encodes the
  style once and a loader thread hashes the photos ahead, as `styler batch` does; the
  authors' forward recomputes the style per photo).
Targets (issue 13): 512² ≤ 10 ms, 4096² ≤ 0.5 s, no out-of-memory at 8192² on an 80 GB card.
``--out`` gets a markdown report; the same numbers go to ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.release_models import authors_model, release_state, styler_model  # noqa: E402
from bench.stylize_bench import (  # noqa: E402
    AUTHORS_SEED,
    CONTENT_IMAGE,
    STYLE_IMAGE,
    authors_attention_bytes,
    bench_size,
    device_memory,
    square_image,
    sync,
    table,
    to_tensor,
)
from engine.batch.runner import DEFAULT_PREFETCH  # noqa: E402
from engine.image_io import image_key  # noqa: E402
from engine.stylizer import Stylizer  # noqa: E402

PHOTO_COUNT = 8


def images_per_second(state: dict, device: torch.device, name: str, side: int, style_side: int) -> float:
    """Photos of ``side``² through one style, one after another, after a warm-up photo."""
    base = square_image(CONTENT_IMAGE, side)
    # Different pixels per photo, so no cache can serve one photo's work to the next.
    photos = [np.roll(base, shift=17 * i, axis=1).copy() for i in range(PHOTO_COUNT + 1)]
    style = square_image(STYLE_IMAGE, style_side)
    if name == "authors":
        model = authors_model(state, seed=AUTHORS_SEED).to(device)
        s = to_tensor(style, device)

        def one(position: int) -> None:
            with torch.no_grad():
                model(to_tensor(photos[position], device), s).cpu()
    else:
        precision = name.partition(" ")[2] or "fp32"
        stylizer = Stylizer(styler_model(state), device=str(device), precision=precision, style_size=None)
        stylizer.set_style(style)
        # As in `styler batch`, a loader thread hashes the next DEFAULT_PREFETCH photos for
        # their cache keys while the engine works (engine/batch/runner.py); inside the timing.
        loader = ThreadPoolExecutor(max_workers=1)
        keys: dict[int, Future[str]] = {}

        def one(position: int) -> None:
            for later in range(position + 1, min(position + 1 + DEFAULT_PREFETCH, len(photos))):
                if later not in keys:
                    keys[later] = loader.submit(image_key, photos[later])
            key = keys.pop(position).result() if position in keys else image_key(photos[position])
            stylizer.set_content(photos[position], key=key)
            stylizer.render()

    one(0)
    sync(device)
    start = time.perf_counter()
    for position in range(1, len(photos)):
        one(position)
    sync(device)
    return PHOTO_COUNT / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="markdown report (JSON next to it)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    parser.add_argument("--styler-only-sizes", type=int, nargs="*", default=[8192])
    parser.add_argument("--batch-side", type=int, default=1024)
    parser.add_argument("--style-size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_bench: no CUDA device here; pass --device cpu for a dry run")
    started = time.perf_counter()
    state = release_state()
    budget = 0.8 * device_memory(device)
    header = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "style": f"{args.style_size}²",
    }
    print(json.dumps(header), flush=True)
    per_size: dict[int, dict[str, dict]] = {}
    for side in args.sizes:
        fits = authors_attention_bytes(side, args.style_size) <= budget
        names = (["authors"] if fits else []) + [
            "styler", "styler bf16", "styler-pooled", "styler-folder", "styler-folder bf16"]
        per_size[side] = bench_size(side, state, device, names, args.rounds, args.style_size, warmup=True)
        if not fits:
            per_size[side]["authors"] = {"error": "skipped: out of memory (estimate)"}
    for side in args.styler_only_sizes:
        per_size[side] = bench_size(side, state, device, ["styler", "styler bf16"], 1, args.style_size, warmup=False)
    throughput = {name: images_per_second(state, device, name, args.batch_side, args.style_size)
                  for name in ("authors", "styler", "styler bf16")}
    seconds = time.perf_counter() - started

    report = [f"# GPU bench: {header['device']}, torch {header['torch']}, style {header['style']}", "",
              table(per_size), "", f"## Images per second at {args.batch_side}² ({PHOTO_COUNT} photos, one style)", "",
              "| variant | images/s |", "|---|---:|"]
    report += [f"| {name} | {value:.2f} |" for name, value in throughput.items()]
    report += ["", f"Whole run: {seconds:.0f} s."]
    text = "\n".join(report) + "\n"
    args.out.write_text(text)
    summary = {name: {k: (statistics.median(v) if isinstance(v, list) and v else v) for k, v in r.items()}
               for name, r in ((f"{side} {n}", r) for side, rs in per_size.items() for n, r in rs.items())}
    args.out.with_suffix(".json").write_text(json.dumps(
        {**header, "results": summary, "images_per_second": throughput, "seconds": seconds}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
