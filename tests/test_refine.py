"""SAM 2 refinement through the engine: where prompts land, what is cached, how regions
combine. A tiny random-weight SAM 2 and CLIPSeg (tests/tiny_*.py) drive the real code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.image_io import load_image
from engine.options import Click, RenderOptions
from engine.pipeline import region_mask_for
from engine.refiner import Refiner, load_refiner
from engine.segment import Segmenter, load_segmenter
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)
from tests.tiny_sam2 import IMAGE_SIZE, sam2_dir  # noqa: F401 (fixture)

# Hard regions, so that mask algebra can be checked pixel for pixel.
HARD = {"feather": 0.0, "grow": 0.0, "min_area": 0.0}


@pytest.fixture()
def rotated_photo(tmp_path: Path) -> Path:
    """Stored 120×72 (landscape) with EXIF "rotate 90° clockwise": upright it is 72×120."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:72, 0:120]
    pixels = np.stack([xx * 2, yy * 3, (xx + yy)], axis=2) + rng.normal(0, 10, (72, 120, 3))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, exif=exif.tobytes(), quality=95)
    return path


class PromptRecorder:
    """What SAM 2's prompt encoder receives, call by call (a forward hook: the model runs as is)."""

    def __init__(self, refiner: Refiner) -> None:
        refiner.clear_caches()  # the shared refiner may hold these prompts' logits from another test
        self.calls: list[dict[str, torch.Tensor | None]] = []
        self._handle = refiner.model.prompt_encoder.register_forward_hook(self._record, with_kwargs=True)

    def _record(self, module, args, kwargs, output) -> None:
        self.calls.append({k: kwargs.get(k) for k in ("input_points", "input_labels", "input_boxes")})

    def close(self) -> None:
        self._handle.remove()


def test_clicks_reach_sam_in_photo_pixels_of_an_exif_rotated_photo(sam2_dir, clipseg_dir, rotated_photo):
    image = load_image(rotated_photo)
    width, height = image.size
    assert (width, height) == (72, 120)
    refiner = load_refiner(sam2_dir, "cpu")
    recorder = PromptRecorder(refiner)
    try:
        clicks = (Click(10, 100), Click(60, 5, positive=False))
        options = RenderOptions(points=clicks, refiner="sam")
        region_mask_for(lambda: load_segmenter(clipseg_dir, "cpu"), image.rgb, options, refiner=refiner)
    finally:
        recorder.close()
    assert len(recorder.calls) == 2
    for click, call in zip(clicks, recorder.calls, strict=True):
        expected = [(click.x + 0.5) * IMAGE_SIZE / width, (click.y + 0.5) * IMAGE_SIZE / height]
        assert call["input_points"].flatten().tolist() == pytest.approx(expected)
        assert call["input_labels"].flatten().tolist() == [1]  # a removal is a positive prompt, subtracted


def test_text_regions_become_boxes_around_what_clipseg_found(sam2_dir, clipseg_dir, rotated_photo):
    image = load_image(rotated_photo)
    width, height = image.size
    segmenter, refiner = load_segmenter(clipseg_dir, "cpu"), load_refiner(sam2_dir, "cpu")
    segmenter.set_image(image.rgb)
    # A threshold that selects part of the photo, whatever the random weights make of it.
    threshold = float(np.quantile(torch.sigmoid(segmenter.logits(["the bed"])[0]).numpy(), 0.7))
    clipseg_only = region_mask_for(
        segmenter, image.rgb, RenderOptions(prompts=("the bed",), threshold=threshold, refine=False, **HARD)
    ) > 0
    assert 0 < clipseg_only.mean() < 1
    recorder = PromptRecorder(refiner)
    try:
        region_mask_for(segmenter, image.rgb, RenderOptions(
            prompts=("the bed",), threshold=threshold, refiner="sam", **HARD), refiner=refiner)
    finally:
        recorder.close()
    (call,) = recorder.calls
    boxes = call["input_boxes"][0].numpy() * np.array([width, height, width, height]) / IMAGE_SIZE
    points = call["input_points"][0, :, 0].numpy() * np.array([width, height]) / IMAGE_SIZE
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    covered = np.zeros_like(clipseg_only)
    for (x0, y0, x1, y1), (px, py) in zip(boxes, points, strict=True):
        inside = (xx >= x0) & (xx <= x1) & (yy >= y0) & (yy <= y1)
        assert clipseg_only[inside].any()  # every box holds something CLIPSeg found…
        assert x0 <= px <= x1 and y0 <= py <= y1  # …and its point lies in it
        covered |= inside
    assert covered[clipseg_only].all()  # and every pixel CLIPSeg found is in a box


def test_image_embedding_is_computed_once_and_each_click_decoded_once(sam2_dir, clipseg_dir, rotated_photo):
    refiner = Refiner.from_folder(sam2_dir, "cpu")
    encodes: list[int] = []
    decodes: list[int] = []
    refiner.model.vision_encoder.register_forward_hook(lambda *a: encodes.append(1))
    refiner.model.prompt_encoder.register_forward_hook(lambda *a: decodes.append(1))
    rgb = load_image(rotated_photo).rgb
    masks = []
    for clicks in [(Click(5, 5),), (Click(5, 5), Click(40, 90)), (Click(40, 90, positive=False),)]:
        masks.append(region_mask_for(lambda: load_segmenter(clipseg_dir, "cpu"), rgb,
                                     RenderOptions(points=clicks, refiner="sam"), refiner=refiner))
    assert len(encodes) == 1
    # One pass per new click: the earlier click is not decoded again, and removing an
    # object the user clicked is the same outline subtracted.
    assert len(decodes) == 2
    assert not np.array_equal(masks[0], masks[1])  # each click did change the region
    assert all(mask.shape == rgb.shape[:2] for mask in masks)  # at the size of the image given
    region_mask_for(lambda: load_segmenter(clipseg_dir, "cpu"), rgb[::-1].copy(),
                    RenderOptions(points=(Click(5, 5),), refiner="sam"), refiner=refiner)
    assert len(encodes) == 2  # another photo is encoded


def test_removing_subtracts_exactly(sam2_dir, clipseg_dir, rotated_photo):
    rgb = load_image(rotated_photo).rgb
    segmenter, refiner = load_segmenter(clipseg_dir, "cpu"), load_refiner(sam2_dir, "cpu")

    segmenter.set_image(rgb)
    # The threshold picks CLIPSeg's regions as well: one that finds something for both prompts.
    threshold = float(np.quantile(torch.sigmoid(segmenter.logits(["the bed", "a lamp"])).numpy(), 0.6))

    def region(**options) -> np.ndarray:
        return region_mask_for(segmenter, rgb, RenderOptions(refiner="sam", threshold=threshold, **HARD, **options),
                               refiner=refiner) > 0

    add, remove = Click(10, 100), Click(60, 20, positive=False)
    added, kept = region(points=(add,)), region(points=(remove,))  # kept = all but the removed object
    both = region(points=(add, remove))
    assert added.any() and (added & ~kept).any()  # the removal takes something away…
    assert np.array_equal(both, added & kept)  # …exactly what it covers

    positive, negative = region(prompts=("the bed",)), region(negatives=("a lamp",))
    assert (positive & ~negative).any() and (positive & negative).any()
    assert np.array_equal(region(prompts=("the bed",), negatives=("a lamp",)), positive & negative)


def test_refined_mask_keeps_grow_and_feather(sam2_dir, clipseg_dir, rotated_photo):
    rgb = load_image(rotated_photo).rgb
    segmenter, refiner = load_segmenter(clipseg_dir, "cpu"), load_refiner(sam2_dir, "cpu")
    base = {"points": (Click(10, 100),), "refiner": "sam", "min_area": 0.0}
    hard = region_mask_for(segmenter, rgb, RenderOptions(**base, feather=0.0), refiner=refiner)
    grown = region_mask_for(segmenter, rgb, RenderOptions(**base, feather=0.0, grow=3.0), refiner=refiner)
    soft = region_mask_for(segmenter, rgb, RenderOptions(**base, feather=4.0), refiner=refiner)
    assert set(np.unique(hard)) <= {0.0, 1.0}
    assert (grown >= hard).all() and grown.sum() > hard.sum()
    assert ((soft > 0) & (soft < 1)).any()  # a feathered edge


def test_clicks_without_sam_are_refused(clipseg_dir, rotated_photo):
    from engine.errors import StylerError

    segmenter: Segmenter = load_segmenter(clipseg_dir, "cpu")
    with pytest.raises(StylerError, match="need the SAM 2 refiner"):
        region_mask_for(segmenter, load_image(rotated_photo).rgb, RenderOptions(points=(Click(1, 1),)))
