"""Segmentation latency: per image, per additional prompt (cached vs uncached), and the
mask post-processing at photo resolution.

Uses CLIPSeg at the released model's sizes (``CLIPSegConfig()`` defaults: ViT-B/16 at 352,
reduce_dim 64) with random weights, so it needs no download and times what the real model
costs. Runs on the CPU, and on CUDA when present.

    .venv/bin/python bench/segment_bench.py [--sizes 1024x768 4000x3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.image_io import to_uint8  # noqa: E402
from engine.masks import combine_logits, finish_mask, probability_map  # noqa: E402
from engine.options import MaskSettings  # noqa: E402
from engine.segment import Segmenter  # noqa: E402
from tests.tiny_clipseg import write_tiny_clipseg  # noqa: E402

PROMPTS = ["the bed", "the sky", "a lamp on a table", "the floor", "curtains", "a person"]


def _timed(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median wall time in milliseconds."""
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _photo(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width, yy / height, 0.5 + 0.3 * np.sin(xx / 40) * np.cos(yy / 30)], axis=2)
    return np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1).astype(np.float32)


def bench_device(folder: Path, device: torch.device, sizes: list[tuple[int, int]], repeats: int) -> None:
    start = time.perf_counter()
    seg = Segmenter.from_folder(folder, device)
    print(f"\n[{device}] load: {(time.perf_counter() - start) * 1000:.0f} ms")
    rgb = _photo(1024, 768, 0)
    seg.set_image(rgb)
    seg.logits(PROMPTS[:1])  # warm-up (kernels, allocator)
    counter = iter(range(10**6))

    def new_image() -> None:
        seg.set_image(rgb, key=f"photo-{next(counter)}")  # a fresh key forces the vision pass

    def new_prompt() -> None:
        seg.logits([f"{PROMPTS[1]} {next(counter)}"])

    uncached_inputs = seg.processor(text=[PROMPTS[1]], images=[to_uint8(rgb)], return_tensors="pt")
    uncached_inputs = {k: v.to(device) for k, v in uncached_inputs.items()}

    def uncached() -> None:
        with torch.inference_mode():
            seg.model(**uncached_inputs)

    rows = [
        ("new image: vision pass (once per photo)", _timed(new_image, device, repeats)),
        ("new prompt on a cached image: text + decoder", _timed(new_prompt, device, repeats)),
        ("cached prompt, cached image: decoder only", _timed(lambda: seg.logits([PROMPTS[0]]), device, repeats)),
        ("6 cached prompts in one decoder batch", _timed(lambda: seg.logits(PROMPTS), device, repeats)),
        ("uncached: full CLIPSeg forward per prompt", _timed(uncached, device, repeats)),
    ]
    for name, ms in rows:
        print(f"  {name:<48} {ms:8.1f} ms")
    logits = seg.logits(PROMPTS[:2])
    for width, height in sizes:
        photo = _photo(width, height, 1)
        selection = combine_logits(logits[:1], logits[1:])
        settings = MaskSettings(feather=3.0, grow=2.0)
        refine = _timed(lambda: probability_map(selection, photo, refine=True), device, max(1, repeats // 2))  # noqa: B023 (timed now)
        plain = _timed(lambda: probability_map(selection, photo, refine=False), device, max(1, repeats // 2))  # noqa: B023 (timed now)
        p = probability_map(selection, photo)
        finish = _timed(lambda: finish_mask(p, settings), device, max(1, repeats // 2))  # noqa: B023 (timed now)
        print(f"  mask at {width}x{height}: upsample {plain:.0f} ms, upsample+guided filter {refine:.0f} ms, "
              f"threshold+specks+grow+feather {finish:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1024x768", "4000x3000"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes]
    from transformers import CLIPSegConfig

    config = CLIPSegConfig(text_config={"bos_token_id": 512, "eos_token_id": 513, "pad_token_id": 513})
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_tiny_clipseg(Path(tmp) / "clipseg-full-size", config=config)
        print(f"CLIPSeg at released sizes, random weights; torch {torch.__version__}, "
              f"{torch.get_num_threads()} CPU threads")
        bench_device(folder, torch.device("cpu"), sizes, args.repeats)
        if torch.cuda.is_available():
            print(f"GPU: {torch.cuda.get_device_name(0)}")
            bench_device(folder, torch.device("cuda"), sizes, args.repeats)


if __name__ == "__main__":
    main()
