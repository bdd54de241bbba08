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
  4. union = max, minus negatives = min(a, −b) on the logits, then the threshold, as
     ``masks.combine_logits`` + ``finish_mask`` do for CLIPSeg; ``masks.finish_region`` does
     the rest: invert, specks, grow and feather apply to the refined region exactly as to
     CLIPSeg's.

Step 4 at the photo's size is most of the cost for a 12 MP photo, so it is done where the
answer is decided and nowhere else. Sigmoid is monotone, so "max of the upsampled logits,
min with minus the negatives', then sigmoid ≥ threshold" is "some positive ≥ τ and no
negative > −τ" with τ the threshold's logit; a bilinear value is a weighted mean of its
four samples, so a mask can pass τ only in the box of photo pixels its passing samples
reach (``refiner.photo_box``). Each mask is upsampled inside that box only, and the
hard region is built from those boxes in booleans; the probabilities (``soft``) are made
only where the finished mask is not 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy import ndimage

from engine.compose import region_box
from engine.masks import CERTAIN, finish_region
from engine.options import Click, MaskSettings
from engine.refiner import BoxPrompt, Refiner, photo_box, upsample_logits
from engine.segment import Segmenter

MAX_REGIONS = 8  # more separate blobs than this are noise in CLIPSeg's map, not objects
_INFINITY_BITS = 0x7F800000  # float32 +inf as an int32


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
        constant: float | None = 0.0  # what was asked for is not there
    elif not positive and not negative:
        constant = 1.0  # only negatives, none found
    else:
        constant = None
    if constant is not None:
        mask = finish_region(np.full(size, constant >= settings.threshold), settings)
        if settings.soft:
            mask *= np.float32(1.0 - constant if settings.invert else constant)
        return mask
    # NumPy from here: these are small or elementwise, where torch's thread pool costs more
    # than it saves on a busy CPU.
    positive_np, negative_np = [m.numpy() for m in positive], [m.numpy() for m in negative]
    mask = finish_region(selected_region(positive_np, negative_np, wanted, size, settings.threshold), settings)
    if settings.soft:
        edges = region_box(mask)  # the mask is 0 elsewhere: no probability needed there
        if edges is not None:
            top, left, bottom, right = edges
            box = np.s_[top:bottom, left:right]
            probability = _probability(positive_np, negative_np, wanted, size, box)
            mask[box] *= 1.0 - probability if settings.invert else probability
    return mask


def selected_region(
    positive: list[np.ndarray], negative: list[np.ndarray], wanted: bool, size: tuple[int, int], threshold: float
) -> np.ndarray:
    """(H, W) bool: sigmoid(min(max positive, −max negative)) ≥ threshold at the photo's
    pixels, from the low-resolution logits, each upsampled only where it can decide."""
    tau = logit_threshold(threshold)
    region = np.zeros(size, bool) if wanted else np.ones(size, bool)  # no positives: 100 ≥ τ
    for logits in positive:
        box = photo_box(logits >= tau, size)
        if box is not None:
            region[box] |= upsample_logits(logits, size, box) >= tau
    for logits in negative:
        box = photo_box(logits > -tau, size)
        if box is not None:
            region[box] &= upsample_logits(logits, size, box) <= -tau
    return region


def _probability(
    positive: list[np.ndarray], negative: list[np.ndarray], wanted: bool, size: tuple[int, int], box: tuple[slice, slice]
) -> np.ndarray:
    """The selection's probability inside ``box`` (float32), as ``combine_logits`` + sigmoid."""
    if wanted:
        selection = upsample_logits(positive[0], size, box)
        for logits in positive[1:]:
            np.maximum(selection, upsample_logits(logits, size, box), out=selection)
    else:
        selection = np.full((box[0].stop - box[0].start, box[1].stop - box[1].start), CERTAIN, np.float32)
    for logits in negative:
        np.minimum(selection, -upsample_logits(logits, size, box), out=selection)
    return torch.sigmoid(torch.from_numpy(selection)).numpy()


def logit_threshold(threshold: float) -> float:
    """The float32 τ with sigmoid(x) ≥ ``threshold`` exactly when x ≥ τ, for torch's float32
    sigmoid (which rounds to 0.5 near 0 and to 1 above about 17: the threshold is compared
    with those rounded values, as before). Bisection over the float32 values in order."""

    def value(order: int) -> float:  # float32 values ordered as integers: −inf … −0, 0 … inf
        bits = np.array([abs(order)], np.int32).view(np.float32)[0]
        return float(-bits if order < 0 else bits)

    def passes(order: int) -> bool:
        return float(torch.sigmoid(torch.tensor(value(order), dtype=torch.float32))) >= threshold

    low, high = -_INFINITY_BITS, _INFINITY_BITS
    if passes(low):
        return -math.inf
    if not passes(high):
        return math.inf
    while high - low > 1:  # passes(high) and not passes(low)
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle
    return value(high)


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
