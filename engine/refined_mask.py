"""Text and clicks -> a region outlined by SAM 2 at the photo's full resolution.

CLIPSeg finds what a prompt names but draws it from 16-px patches of a 352-px square;
SAM 2 outlines objects precisely but does not read text. So:
  1. CLIPSeg's map of the prompts (their union, in logit space as ``masks.combine_logits``)
     is thresholded at ``threshold`` and split into connected regions (specks below
     ``min_area`` dropped, the largest ``MAX_REGIONS`` kept);
  2. each region gives SAM 2 a box (its bounding box plus half a CLIPSeg patch, so a
     blocky edge that cut into the object does not cut the box) and a positive point at
     its strongest response; one decoder pass outlines them all;
  3. negatives go through steps 1-2 the same way; clicks add (or, negative, remove) the
     object under them;
  4. each mask is brought to the photo's pixels, then union = max, minus negatives =
     min(a, −b) on the logits (a running max: two full-size planes whatever the count), and
     ``masks.finish_mask`` does the rest: threshold, invert, specks, grow and feather apply
     to the refined region exactly as to CLIPSeg's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy import ndimage

from engine.masks import combine_logits, finish_mask
from engine.options import Click, MaskSettings
from engine.refiner import BoxPrompt, Refiner, upsample_logits
from engine.segment import Segmenter

MAX_REGIONS = 8  # more separate blobs than this are noise in CLIPSeg's map, not objects


def refined_region_mask(
    segmenter: Segmenter | Callable[[], Segmenter],
    refiner: Refiner,
    rgb: np.ndarray,
    prompts: Sequence[str],
    negatives: Sequence[str],
    clicks: Sequence[Click],
    settings: MaskSettings,
    key: str | None = None,
) -> np.ndarray:
    """(H, W) float32 mask in [0, 1]. ``segmenter`` may be a loader: it is called only when
    there are text prompts, so clicks alone never load CLIPSeg. ``key``: the pixels'
    identity when already known (it keys both models' caches)."""
    size = rgb.shape[:2]
    key = refiner.set_image(rgb, key)
    positive: list[torch.Tensor] = []  # low-resolution logits, one per object
    negative: list[torch.Tensor] = []
    if prompts or negatives:
        clipseg = segmenter if isinstance(segmenter, Segmenter) else segmenter()
        clipseg.set_image(rgb, key)
        logits = clipseg.logits([*prompts, *negatives])
        margin = clipseg.model.config.vision_config.patch_size / 2
        if prompts:
            positive += _outline(refiner, logits[: len(prompts)].amax(dim=0), settings, margin)
        if negatives:
            negative += _outline(refiner, logits[len(prompts) :].amax(dim=0), settings, margin)
    for click in clicks:
        (positive if click.positive else negative).append(refiner.decode_click(click))
    wanted = bool(prompts) or any(c.positive for c in clicks)
    if wanted and not positive:
        probability = np.zeros(size, np.float32)  # what was asked for is not there
    elif not positive and not negative:
        probability = np.ones(size, np.float32)  # only negatives, none found
    else:
        selection = combine_logits(
            _union(positive, size) if wanted else None, _union(negative, size) if negative else None
        )
        probability = torch.sigmoid(selection).numpy()
    return finish_mask(probability, settings)


def _union(masks: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
    """(1, H, W) full-resolution logits of the union (max) of low-resolution ``masks``."""
    union = upsample_logits(masks[0], size)
    for mask in masks[1:]:
        torch.maximum(union, upsample_logits(mask, size), out=union)
    return union[None]


def _outline(refiner: Refiner, logits: torch.Tensor, settings: MaskSettings, margin: float) -> list[torch.Tensor]:
    """SAM 2's masks (low-res logits) of the regions where CLIPSeg's ``logits`` pass the threshold."""
    prompts = seed_prompts(logits, settings.threshold, settings.min_area, refiner.image_size, margin)
    if not prompts:
        return []
    return list(refiner.decode_boxes(prompts))


def seed_prompts(
    logits: torch.Tensor,
    threshold: float,
    min_area: float,
    photo_size: tuple[int, int],
    margin: float,
) -> list[BoxPrompt]:
    """CLIPSeg (h, w) logits -> a box and a peak point per connected region, in the photo's
    continuous pixel coordinates (``photo_size`` = (height, width)). CLIPSeg's input is
    the photo squashed to a square, so x and y scale separately; ``margin`` is in CLIPSeg
    output pixels."""
    probability = torch.sigmoid(logits.float()).numpy()
    h, w = probability.shape
    labels, count = ndimage.label(probability >= threshold, structure=np.ones((3, 3)))
    if count == 0:
        return []
    sizes = np.bincount(labels.ravel())[1:]
    keep = [int(i) + 1 for i in np.argsort(-sizes, kind="stable")[:MAX_REGIONS] if sizes[i] >= max(1.0, min_area * h * w)]
    height, width = photo_size
    sx, sy = width / w, height / h
    boxes = ndimage.find_objects(labels)
    prompts = []
    for index in keep:
        rows, cols = boxes[index - 1]
        inside = np.where(labels == index, probability, -1.0)
        py, px = np.unravel_index(int(inside.argmax()), inside.shape)
        box = (
            max(0.0, cols.start - margin) * sx, max(0.0, rows.start - margin) * sy,
            min(float(w), cols.stop + margin) * sx, min(float(h), rows.stop + margin) * sy,
        )
        prompts.append(BoxPrompt(box=box, point=((px + 0.5) * sx, (py + 0.5) * sy)))
    return prompts
