"""The refined mask, finished where the answer is decided (boxes of the low-resolution
logits, grow/feather along the edge only), against the straightforward way written out
here: every SAM 2 mask upsampled to the whole photo, max/min over full planes, sigmoid,
threshold, and specks, grow and feather over the whole image. On a real photo (one of the
shared photos, kept in bench/images), tiny random-weight SAM 2 and CLIPSeg.

Tolerance: the fast path's bilinear upsampling matches ``F.interpolate`` to float32
rounding (it does not copy the kernel's fused multiply-adds), so a pixel whose logit lies
within ~1e-6 of the threshold may fall on the other side; here at most 0.1 % of pixels
may differ by more than 1e-5 (in practice none do)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from engine.image_io import load_image
from engine.options import Click, MaskSettings, RenderOptions
from engine.pipeline import region_mask_for
from engine.refined_mask import seed_prompts
from engine.refiner import load_refiner
from engine.segment import load_segmenter
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)
from tests.tiny_sam2 import sam2_dir  # noqa: F401 (fixture)

PHOTO = Path(__file__).resolve().parents[1] / "bench" / "images" / "living_room.jpg"


def reference_mask(positive: list[torch.Tensor], negative: list[torch.Tensor], wanted: bool,
                   size: tuple[int, int], settings: MaskSettings) -> np.ndarray:
    def up(logits: torch.Tensor) -> torch.Tensor:
        return F.interpolate(logits[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]

    selection = torch.stack([up(m) for m in positive]).amax(dim=0) if wanted else torch.full(size, 100.0)
    for logits in negative:
        selection = torch.minimum(selection, -up(logits))
    probability = torch.sigmoid(selection).numpy()
    region = probability >= settings.threshold
    if settings.invert:
        region = ~region
    limit = settings.min_area * region.size
    for polarity in (True, False):  # islands, then holes
        labels, _ = ndimage.label(region == polarity)
        small = (np.bincount(labels.ravel()) < limit)[labels] & (labels > 0)
        region = np.where(small, not polarity, region)
    signed = np.where(region, ndimage.distance_transform_edt(region) - 0.5,
                      0.5 - ndimage.distance_transform_edt(~region)) + settings.grow
    if settings.feather > 0:
        t = np.clip((signed + settings.feather) / (2 * settings.feather), 0, 1)
        mask = t * t * (3 - 2 * t)
    else:
        mask = (signed > 0).astype(np.float64)
    if settings.soft:
        mask = mask * (1 - probability if settings.invert else probability)
    return mask.astype(np.float32)


CASES = {
    "two clicks": {"points": (Click(60, 70), Click(150, 40))},
    "click minus click": {"points": (Click(60, 70), Click(100, 60, positive=False)), "feather": 0.0},
    "grown, feathered, specks": {"points": (Click(60, 70),), "grow": 4.0, "feather": 2.5, "min_area": 0.01},
    "shrunk, soft": {"points": (Click(150, 40),), "grow": -3.0, "soft": True},
    "inverted, soft": {"points": (Click(60, 70),), "invert": True, "soft": True, "feather": 5.0},
    "removal only": {"points": (Click(100, 60, positive=False),)},
    "text and a removal": {"prompts": ("the bed",), "points": (Click(100, 60, positive=False),)},
}


@pytest.mark.parametrize("case", list(CASES))
def test_refined_mask_matches_the_full_resolution_reference(case, sam2_dir, clipseg_dir):
    image = load_image(PHOTO, 240)
    height, width = image.rgb.shape[:2]
    segmenter, refiner = load_segmenter(clipseg_dir, "cpu"), load_refiner(sam2_dir, "cpu")
    options = RenderOptions(refiner="sam", **CASES[case])
    if options.prompts:  # a threshold that finds something with random weights
        segmenter.set_image(image.rgb, image.key)
        chances = torch.sigmoid(segmenter.logits(list(options.prompts))[0]).numpy()
        options = RenderOptions(refiner="sam", threshold=float(np.quantile(chances, 0.7)), **CASES[case])
    fast = region_mask_for(segmenter, image.rgb, options, image.key, refiner=refiner)

    # The same SAM 2 outputs, through the public API, finished the slow way.
    refiner.set_image(image.rgb, image.key)
    positive, negative = [], []
    if options.prompts:
        logits = segmenter.logits(list(options.prompts)).amax(dim=0)
        margin = segmenter.model.config.vision_config.patch_size / 2
        boxes = seed_prompts(logits, options.threshold, options.min_area, (height, width), margin)
        positive += list(refiner.decode_boxes(boxes)) if boxes else []
    for click in options.points:
        (positive if click.positive else negative).append(refiner.decode_click(click))
    wanted = bool(options.prompts) or any(c.positive for c in options.points)
    assert positive or not wanted
    slow = reference_mask(positive, negative, wanted, (height, width), options.mask_settings)

    assert fast.shape == slow.shape == (height, width) and fast.dtype == np.float32
    assert 0.02 < (slow > 0.5).mean() < 0.98  # a real region with an edge, not all or nothing
    assert (np.abs(fast - slow) > 1e-5).mean() <= 1e-3
