"""SAM 2 refinement latency: image embedding per photo, decoder pass per click, and the
whole text -> refined mask for a 12 MP photo (CLIPSeg + SAM 2 + full-resolution mask).

Uses SAM 2.1 Hiera-Tiny at the released sizes (transformers' ``Sam2Config()`` defaults,
1024 px input) and CLIPSeg at the released sizes, both with random weights: no download,
and the timing does not depend on the weights (only the number of regions CLIPSeg finds
does, which is printed).

    python bench/refine_bench.py [--device cpu|cuda|auto] [--size 4000x3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

try:
    import pytest  # noqa: F401 - tests/tiny_*.py define their fixtures with it
except ImportError:  # a GPU box without the test tools: the fixtures are not used here
    sys.modules["pytest"] = types.SimpleNamespace(fixture=lambda *a, **k: (lambda f: f))  # type: ignore[assignment]

from engine.devices import resolve_device  # noqa: E402
from engine.options import Click, MaskSettings  # noqa: E402
from engine.refined_mask import refined_region_mask, seed_prompts  # noqa: E402
from engine.refiner import Refiner  # noqa: E402
from engine.segment import Segmenter  # noqa: E402
from tests.tiny_clipseg import write_tiny_clipseg  # noqa: E402
from tests.tiny_sam2 import real_size_config, write_tiny_sam2  # noqa: E402


def _timed(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median wall time in milliseconds (after the caller's warm-up)."""
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


def bench(sam2: Path, clipseg: Path, device: torch.device, size: tuple[int, int], repeats: int) -> None:
    start = time.perf_counter()
    refiner = Refiner.from_folder(sam2, device)
    segmenter = Segmenter.from_folder(clipseg, device)
    print(f"[{device}] load SAM 2 + CLIPSeg: {(time.perf_counter() - start) * 1000:.0f} ms")
    width, height = size
    photo = _photo(width, height, 0)
    counter = iter(range(10**6))
    refiner.set_image(photo)  # warm-up (kernels, allocator)
    refiner.decode_click(Click(width / 2, height / 2))

    pixels = refiner.image_processor(images=[np.zeros((8, 8, 3), np.uint8)], return_tensors="pt")["pixel_values"]
    pixels = pixels.to(device)

    def encoder_only() -> None:
        with torch.inference_mode():
            refiner.model.get_image_embeddings(pixels)

    def new_photo() -> None:
        refiner.set_image(photo, key=f"photo-{next(counter)}")  # a fresh key forces the encoder

    refiner.set_image(photo)
    clicks = [Click(width * f, height * g) for f, g in ((0.3, 0.4), (0.6, 0.5), (0.5, 0.8))]
    click_cycle = iter(clicks * (repeats + 1))
    settings = MaskSettings(feather=3.0, threshold=0.4)

    def one_click() -> None:
        refiner.decode_click(next(click_cycle))

    def click_to_mask() -> None:
        refined_region_mask(segmenter, refiner, photo, (), (), clicks[:1], settings)

    segmenter.set_image(photo)
    # Random CLIPSeg weights: pick the threshold that selects a fifth of the photo, so the
    # run outlines a realistic handful of regions rather than none or one.
    logits = segmenter.logits(["the bed"])[0]
    threshold = float(np.quantile(torch.sigmoid(logits).numpy(), 0.8))
    text_settings = MaskSettings(feather=3.0, threshold=threshold)
    regions = len(seed_prompts(logits, threshold, text_settings.min_area, (height, width), 8.0))

    def text_to_mask() -> None:
        key = f"photo-{next(counter)}"  # both caches miss: the whole cost of a new photo
        segmenter.set_image(photo, key=key)
        refiner.set_image(photo, key=key)
        refined_region_mask(segmenter, refiner, photo, ("the bed",), (), (), text_settings)

    rows = [
        (f"SAM 2 image encoder at {refiner.input_size} px (once per photo)", _timed(encoder_only, device, repeats)),
        (f"new photo {width}x{height}: resize + encoder", _timed(new_photo, device, repeats)),
        ("per click: decoder pass (embedding cached)", _timed(one_click, device, repeats)),
        (f"per click: decoder + {width}x{height} mask (finish_mask)", _timed(click_to_mask, device, repeats)),
        (f"text -> refined {width}x{height} mask, new photo ({regions} regions)",
         _timed(text_to_mask, device, max(1, repeats // 2))),
    ]
    for name, ms in rows:
        print(f"  {name:<62} {ms:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    parser.add_argument("--size", default="4000x3000", help="photo size WxH (default 4000x3000 = 12 MP)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    device = resolve_device(args.device)
    from transformers import CLIPSegConfig

    clipseg_config = CLIPSegConfig(text_config={"bos_token_id": 512, "eos_token_id": 513, "pad_token_id": 513})
    with tempfile.TemporaryDirectory() as tmp:
        sam2 = write_tiny_sam2(Path(tmp) / "sam2-hiera-tiny", config=real_size_config())
        clipseg = write_tiny_clipseg(Path(tmp) / "clipseg", config=clipseg_config)
        where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} CPU threads"
        print(f"SAM 2.1 Hiera-Tiny + CLIPSeg at released sizes, random weights; torch {torch.__version__}, {where}")
        bench(sam2, clipseg, device, size, args.repeats)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
