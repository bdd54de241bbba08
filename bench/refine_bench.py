"""SAM 2 refinement latency: the image embedding per photo, the decoder pass per click, the
mask finishing step by step at 12 MP and at the app's preview size, and the whole text ->
refined mask for a 12 MP photo.

SAM 2.1 Hiera-Tiny (transformers' ``Sam2Config()`` defaults, 1024 px input) and CLIPSeg as
released (ViT-B/16 on 352 px: transformers' default vision config is ViT-B/32 on 224, so
the patch and input sizes are set here), random weights: no download, and the models'
time does not depend on the weights. The finishing's time does depend on the masks' shapes: random weights give a
pixel-level checkerboard (every cell an edge: the worst case), a trained SAM 2 gives
objects. So the finishing is timed on both: the random decoder's output, and object-like
logits made from the photo (two ellipses and a removed one, their edges bent by the
photo's blurred brightness). "Before" is the straightforward full-resolution finishing
that Styler used until it was replaced (``tests/test_refined_reference.py``, which the
fast one must match), timed in the same run.

The photo is a real one (``--photo``, default one of /work/shared/photos, else the copy in
bench/images) resized to ``--size``: none of the shared photos is 12 MP.

    python bench/refine_bench.py [--device cpu|cuda|auto] [--threads 2] [--size 4000x3000]
                                 [--preview 512] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

try:
    import pytest  # noqa: F401 - tests/*.py define their fixtures with it
except ImportError:  # a GPU box without the test tools: the fixtures are not used here
    sys.modules["pytest"] = types.SimpleNamespace(fixture=lambda *a, **k: (lambda f: f))  # type: ignore[assignment]

from engine.devices import resolve_device  # noqa: E402
from engine.image_io import to_uint8  # noqa: E402
from engine.masks import finish_region, remove_specks, shape_region  # noqa: E402
from engine.options import Click, MaskSettings  # noqa: E402
from engine.refined_mask import refined_region_mask, seed_prompts, selected_region  # noqa: E402
from engine.refiner import Refiner  # noqa: E402
from engine.segment import Segmenter  # noqa: E402
from tests.test_refined_reference import reference_mask  # noqa: E402
from tests.tiny_clipseg import write_tiny_clipseg  # noqa: E402
from tests.tiny_sam2 import real_size_config, write_tiny_sam2  # noqa: E402

PHOTOS = (Path("/work/shared/photos/photos/dog_camera_trap.jpg"), REPO / "bench" / "images" / "living_room.jpg")
SETTINGS = MaskSettings(feather=3.0, threshold=0.4)  # the defaults, as a click in the app uses them


class Table:
    """Rows of median wall and process-CPU milliseconds (CPU: all threads together)."""

    def __init__(self, device: torch.device, repeats: int) -> None:
        self.device, self.repeats = device, repeats

    def time(self, name: str, fn: Callable[[], object], repeats: int | None = None) -> None:
        wall, cpu = [], []
        for _ in range(repeats or self.repeats):
            self._sync()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            self._sync()
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        print(f"  {name:<66} {statistics.median(wall):9.1f} {statistics.median(cpu):9.1f}", flush=True)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def _photo(path: Path, width: int, height: int) -> np.ndarray:
    with Image.open(path) as image:
        resized = image.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(resized, dtype=np.float32) / 255.0


def _object_logits(photo: np.ndarray, side: int) -> list[np.ndarray]:
    """Logits like a trained SAM 2's at its (side, side) output: two objects to add and
    one to remove, ellipses whose edges follow the photo's blurred brightness."""
    grey = np.asarray(Image.fromarray(to_uint8(photo)).convert("L").resize((side, side), Image.Resampling.BOX))
    blur = ndimage.gaussian_filter(grey.astype(np.float32), side / 64)
    texture = (blur - np.median(blur)) / (blur.std() + 1e-6)
    yy, xx = np.mgrid[0:side, 0:side] / side
    shapes = ((0.31, 0.39, 0.2), (0.66, 0.51, 0.16), (0.47, 0.47, 0.08))
    return [(12 * (1 - np.hypot((xx - x) / r, (yy - y) / (0.7 * r))) + 6 * texture).astype(np.float32)
            for x, y, r in shapes]


def _finishing(table: Table, label: str, masks: list[np.ndarray], size: tuple[int, int]) -> None:
    """The finishing of two added masks and one removed, step by step, then before/after."""
    positive, negative = masks[:2], masks[2:]
    def region() -> np.ndarray:
        return selected_region(positive, negative, True, size, SETTINGS.threshold)

    selected = region()
    cleaned = remove_specks(selected, SETTINGS.min_area)
    height, width = size
    print(f" {label}, {width}x{height}: region {selected.mean():.0%} of the photo")
    table.time("  upsample in boxes + threshold (logit space), union − removal", region)
    table.time("  specks (islands and holes, region's box)", lambda: remove_specks(selected, SETTINGS.min_area))
    table.time("  feather 3 px (distances along the edge only)", lambda: shape_region(cleaned, 0.0, SETTINGS.feather))
    table.time("  after: all of it (as refined_region_mask)", lambda: finish_region(region(), SETTINGS))
    tensors = [torch.from_numpy(m) for m in masks]
    table.time("  before: full-size upsample, max/min, sigmoid, whole-image specks + EDT",
               lambda: reference_mask(tensors[:2], tensors[2:], True, size, SETTINGS), repeats=1)


def bench(sam2: Path, clipseg: Path, device: torch.device, photo_path: Path, size: tuple[int, int],
          preview_side: int, repeats: int) -> None:
    refiner = Refiner.from_folder(sam2, device)
    segmenter = Segmenter.from_folder(clipseg, device)
    width, height = size
    photo = _photo(photo_path, width, height)
    scale = preview_side / max(width, height)
    preview = _photo(photo_path, round(width * scale), round(height * scale))
    p_height, p_width = preview.shape[:2]
    print(f"photo {photo_path.name} resized to {width}x{height}; preview {p_width}x{p_height}")
    print(f"  {'step':<66} {'wall ms':>9} {'CPU ms':>9}")
    table = Table(device, repeats)
    fresh = iter(range(10**6))
    refiner.set_image(preview)  # warm-up (kernels, allocator)
    refiner.decode_click(Click(1, 1))

    print(" per photo")
    pixels = refiner.image_processor(images=[to_uint8(preview)], return_tensors="pt")["pixel_values"].to(device)

    def encoder() -> None:
        with torch.inference_mode():
            refiner.model.get_image_embeddings(pixels)

    table.time(f"SAM 2 image encoder at {refiner.input_size} px (the embedding)", encoder)
    table.time(f"{width}x{height} to uint8 + processor (resize to {refiner.input_size})",
               lambda: refiner.image_processor(images=[to_uint8(photo)], return_tensors="pt"))
    table.time(f"new {width}x{height} photo: set_image (both of the above)",
               lambda: refiner.set_image(photo, key=f"photo-{next(fresh)}"))

    print(f" per click in the app: the {p_width}x{p_height} preview's embedding cached")
    refiner.set_image(preview, key="preview")
    spots = iter(range(1, 10**6))

    def new_click() -> Click:  # never the same spot twice: the decoder runs every time
        n = next(spots)
        return Click((n * 37) % p_width, (n * 53) % p_height)

    with torch.inference_mode():
        embeddings = refiner.model.get_image_embeddings(pixels)

    def library_decoder() -> None:  # what Styler ran until engine.sam2_decoder, on the same photo
        n = next(spots)
        point = torch.tensor([[[[(n * 37) % refiner.input_size, (n * 53) % refiner.input_size]]]], dtype=torch.float32)
        with torch.inference_mode():
            refiner.model(image_embeddings=embeddings, input_points=point.to(device),
                          input_labels=torch.ones(1, 1, 1, dtype=torch.int64, device=device), multimask_output=True)

    for _ in range(2):  # alternated, so that both see the same load
        table.time("decoder pass (a new click)", lambda: refiner.decode_click(new_click()), repeats=max(repeats, 10))
        table.time("  the same through transformers' Sam2Model.forward (before)", library_decoder,
                   repeats=max(repeats, 10))
    table.time(f"new click -> {p_width}x{p_height} mask (decoder + finishing)",
               lambda: refined_region_mask(segmenter, refiner, preview, (), (), (new_click(),), SETTINGS, "preview"))
    clicks = (Click(p_width * 0.3, p_height * 0.4), Click(p_width * 0.6, p_height * 0.5),
              Click(p_width * 0.5, p_height * 0.6, positive=False))
    refined_region_mask(segmenter, refiner, preview, (), (), clicks, SETTINGS, "preview")
    table.time(f"3 clicks again (decoded logits cached) -> {p_width}x{p_height} mask",
               lambda: refined_region_mask(segmenter, refiner, preview, (), (), clicks, SETTINGS, "preview"))

    print(" mask finishing")
    random_masks = [refiner.decode_click(c).numpy() for c in clicks]
    object_masks = _object_logits(preview, random_masks[0].shape[0])
    for label, masks in (("object-like logits", object_masks), ("random-weight decoder output", random_masks)):
        _finishing(table, label, masks, (p_height, p_width))
        _finishing(table, label, masks, (height, width))

    print(" text -> refined mask, new 12 MP photo (both models' caches miss)")
    segmenter.set_image(photo)
    # Random CLIPSeg weights: pick the threshold that selects a fifth of the photo, so the
    # run outlines a realistic handful of regions rather than none or one.
    logits = segmenter.logits(["the bed"])[0]
    threshold = float(np.quantile(torch.sigmoid(logits).numpy(), 0.8))
    text_settings = MaskSettings(feather=3.0, threshold=threshold)
    regions = len(seed_prompts(logits, threshold, text_settings.min_area, (height, width), 8.0))
    table.time("CLIPSeg: set_image + logits", lambda: (segmenter.set_image(photo, key=f"photo-{next(fresh)}"),
                                                       segmenter.logits(["the bed"])))

    def text_to_mask() -> None:
        key = f"photo-{next(fresh)}"
        segmenter.set_image(photo, key=key)
        refiner.set_image(photo, key=key)
        refined_region_mask(segmenter, refiner, photo, ("the bed",), (), (), text_settings, key)

    table.time(f"all of it: CLIPSeg + SAM 2 embedding + decoder + finishing ({regions} regions)",
               text_to_mask, max(1, repeats // 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--size", default="4000x3000", help="photo size WxH (default 4000x3000 = 12 MP)")
    parser.add_argument("--preview", type=int, default=512, help="the app's preview side (default 512)")
    parser.add_argument("--photo", type=Path, default=next((p for p in PHOTOS if p.is_file()), PHOTOS[-1]))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    from transformers import CLIPSegConfig

    clipseg_config = CLIPSegConfig(
        text_config={"bos_token_id": 512, "eos_token_id": 513, "pad_token_id": 513},
        vision_config={"patch_size": 16, "image_size": 352},
    )
    with tempfile.TemporaryDirectory() as tmp:
        sam2 = write_tiny_sam2(Path(tmp) / "sam2-hiera-tiny", config=real_size_config())
        clipseg = write_tiny_clipseg(Path(tmp) / "clipseg", config=clipseg_config)
        where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} CPU threads"
        print(f"SAM 2.1 Hiera-Tiny + CLIPSeg ViT-B/16 at 352, random weights; torch {torch.__version__}, {where}; "
              f"load average {os.getloadavg()[0]:.1f}")
        bench(sam2, clipseg, device, args.photo, (width, height), args.preview, args.repeats)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
