"""From CLIPSeg logits to the mask the fusion uses: combine prompts, upsample, refine,
threshold, clean, grow and feather. Pure functions over arrays; no model here.

Order, and why:
  1. combine in logit space at CLIPSeg's resolution (union = max, minus negatives);
     sigmoid is monotone, so this equals combining probabilities, at 1/100th the pixels.
  2. upsample the logits (bicubic), then sigmoid: smooth edges, never 352-pixel blocks.
  3. refine with a guided filter steered by the photo, so edges snap to the image's edges.
  4. threshold -> a hard region, inverted if asked (so --invert is exactly the complement
     of the same region); drop islands and fill holes below ``min_area``.
  5. grow/shrink and feather through one signed distance field: exact Euclidean distances,
     and a feathered edge still reaches exactly 0 outside and exactly 1 inside, so pixels
     away from the region stay bit-identical to the input.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

from engine.atomic import write_atomically
from engine.compose import region_box
from engine.errors import StylerError
from engine.image_io import load_image, to_uint8, verify_image_file
from engine.options import MaskSettings

# Guided filter working resolution (longer side) and its parameters there: a radius of
# about a third of a CLIPSeg patch, and eps = (0.03)² so only real edges steer the mask.
_GUIDE_SIDE = 512
_GUIDE_RADIUS = 8
_GUIDE_EPS = 1e-3
# A logit that is "surely inside" (sigmoid = 1 in float32) yet finite for interpolation.
CERTAIN = 100.0


def combine_logits(positive: torch.Tensor | None, negative: torch.Tensor | None) -> torch.Tensor:
    """positive (P, h, w), negative (N, h, w) logits -> (h, w) logit of the selection.

    Fuzzy logic on probabilities: union = max, "and not" = min(a, 1 − b); with
    1 − sigmoid(x) = sigmoid(−x) both stay in logit space. No positives = the whole image."""
    if positive is None and negative is None:
        raise ValueError("combine_logits needs positive or negative logits")
    if positive is not None:
        selected = positive.amax(dim=0)
    else:
        assert negative is not None  # checked above: one of the two is given
        selected = torch.full(negative.shape[-2:], CERTAIN)
    if negative is not None:
        selected = torch.minimum(selected, -negative.amax(dim=0))
    return selected


def probability_map(logits: torch.Tensor, rgb: np.ndarray, refine: bool = True) -> np.ndarray:
    """(h, w) logits -> (H, W) float32 probabilities at the image's size, edges refined
    with the image when ``refine``."""
    height, width = rgb.shape[:2]
    if not refine:
        return _sigmoid_resized(logits, (height, width))
    scale = min(1.0, _GUIDE_SIDE / max(height, width))
    small = (max(1, round(height * scale)), max(1, round(width * scale)))
    guide_full = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).mean(dim=2)
    guide = F.interpolate(guide_full[None, None], size=small, mode="area")[0, 0].numpy()
    a, b = _guided_coefficients(guide, _sigmoid_resized(logits, small), _GUIDE_RADIUS, _GUIDE_EPS)
    # Fast guided filter: the smooth coefficients are upsampled, the guide is full-res.
    ab = torch.from_numpy(np.stack([a, b]))[None]
    ab = F.interpolate(ab, size=(height, width), mode="bilinear", align_corners=False)[0]
    return (ab[0] * guide_full + ab[1]).clamp_(0.0, 1.0).numpy()


def _sigmoid_resized(logits: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    # Bicubic on logits, not probabilities: overshoot is harmless before the sigmoid.
    up = F.interpolate(logits.float()[None, None], size=size, mode="bicubic", align_corners=False)
    return torch.sigmoid(up[0, 0]).numpy()


def _guided_coefficients(
    guide: np.ndarray, p: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter (grey guide): q = mean(a)·I + mean(b), locally linear in I.
    Box means by scipy's separable running sums (O(1) per pixel whatever the radius)."""

    def box(x: np.ndarray) -> np.ndarray:
        return ndimage.uniform_filter(x, 2 * radius + 1, mode="reflect")

    mean_i, mean_p = box(guide), box(p)
    cov_ip = box(guide * p) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a).astype(np.float32), box(b).astype(np.float32)


def finish_mask(probability: np.ndarray, settings: MaskSettings) -> np.ndarray:
    """(H, W) probabilities -> (H, W) float32 mask in [0, 1] with exact 0 and 1 away from
    the region's edge."""
    mask = finish_region(probability >= settings.threshold, settings)
    if settings.soft:
        mask *= 1.0 - probability if settings.invert else probability
    return mask


def finish_region(region: np.ndarray, settings: MaskSettings) -> np.ndarray:
    """The hard region (before ``invert``) -> the mask: inverted if asked, specks removed,
    grown and feathered; ``soft`` is left to the caller, who has the probabilities."""
    if settings.invert:
        region = ~region
    return shape_region(remove_specks(region, settings.min_area), settings.grow, settings.feather)


def remove_specks(region: np.ndarray, min_area: float) -> np.ndarray:
    """Drop islands of ``region`` and fill holes in it smaller than ``min_area`` × image.
    Islands lie inside the region's box and holes inside it or next to it, so only that
    box (and a ring around it) is labelled."""
    limit = min_area * region.size
    if limit < 1:
        return region
    box = _box(region)
    if box is None:  # no region: what there is, is one background
        return ~_drop_small(~region, limit)
    inside = region[box]
    kept = _drop_small(inside, limit)
    if kept is not inside:
        region = np.zeros_like(region)
        region[box] = kept
        box = _box(region)
        if box is None:
            return ~_drop_small(~region, limit)
    return _fill_small_holes(region, box, limit)


def _drop_small(region: np.ndarray, limit: float) -> np.ndarray:
    """``region`` without its components under ``limit`` pixels (``region`` itself when
    none is: the usual case, with no full-size gather to make)."""
    labels, count = ndimage.label(region)
    if count == 0:
        return region
    keep = np.bincount(labels.ravel()) >= limit
    keep[0] = False  # background
    if keep[1:].all():
        return region
    return keep[labels]


def _fill_small_holes(region: np.ndarray, box: tuple[slice, slice], limit: float) -> np.ndarray:
    """Fill background components of ``region`` under ``limit`` pixels, labelling only
    ``box`` (the region's) and a one-pixel ring around it where the photo has room.
    Everything beyond the ring is background in four pieces (above, below, left and right
    of the ring), each joined to its side of the ring: that side's component owns it."""
    height, width = region.shape
    y0, y1 = max(0, box[0].start - 1), min(height, box[0].stop + 1)
    x0, x1 = max(0, box[1].start - 1), min(width, box[1].stop + 1)
    labels, _ = ndimage.label(~region[y0:y1, x0:x1])
    sizes = np.bincount(labels.ravel())
    # (its ring side's label, the piece, its area); a ring side is one background line.
    pieces = [
        (labels[0, 0], np.s_[:y0, :], y0 * width),
        (labels[-1, 0], np.s_[y1:, :], (height - y1) * width),
        (labels[0, 0], np.s_[y0:y1, :x0], (y1 - y0) * x0),
        (labels[0, -1], np.s_[y0:y1, x1:], (y1 - y0) * (width - x1)),
    ]
    pieces = [piece for piece in pieces if piece[2] > 0]
    for label, _, area in pieces:
        sizes[label] += area
    small = sizes < limit
    small[0] = False  # label 0 is the region itself
    if not small.any():
        return region
    filled = region.copy()
    filled[y0:y1, x0:x1] |= small[labels]
    for label, piece, _ in pieces:
        if small[label]:
            filled[piece] = True
    return filled


def _box(region: np.ndarray) -> tuple[slice, slice] | None:
    """The bounding box of the True pixels as slices (None: there are none)."""
    box = region_box(region)
    if box is None:
        return None
    top, left, bottom, right = box
    return slice(top, bottom), slice(left, right)


# Grow/feather: edge tiles of this side, and up to which reach the distances are found by
# shifting arrays (vectorised over all tiles) rather than by scipy's transform per tile.
# Measured on a 12 MP object mask and a 512-px preview of it (bench/refine_bench.py):
# shifting is 2-3x faster up to a reach of about 4 px (feather 3, the default), slower above.
_SHAPE_TILE = 32
_SHIFTED_REACH = 4
_TILES_AT_ONCE = 256  # bounds the working arrays (a few tens of MB) on edge-heavy masks


def shape_region(region: np.ndarray, grow: float = 0.0, feather: float = 0.0) -> np.ndarray:
    """Hard region -> float mask, grown by ``grow`` px (negative shrinks) and feathered over
    ±``feather`` px, both measured with the exact Euclidean distance to the region's edge.

    A pixel keeps its own value (1 inside, 0 outside) unless the other side is nearer than
    |grow| + feather (+ half a pixel, the edge's offset), i.e. within ``reach`` pixels along
    both axes. So distances are found only in tiles near the edge, each with a margin of
    ``reach`` (the photo's border pixels repeated beyond it, which puts no pixel nearer):
    every distance that matters is the whole image's, and the mask is bit-identical to one
    distance transform over the whole image, at a fraction of the cost."""
    if not region.any() or region.all():  # no edge to move or soften
        return region.astype(np.float32)
    if grow == 0 and feather <= 0:
        return region.astype(np.float32)
    reach = math.ceil(abs(grow) + max(feather, 0.0))
    tile = max(_SHAPE_TILE, reach)  # a tile's margin then lies within its 8 neighbours
    height, width = region.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.pad(region, ((reach, rows * tile - height + reach), (reach, cols * tile - width + reach)), mode="edge")
    blocks = padded[reach : reach + rows * tile, reach : reach + cols * tile].reshape(rows, tile, cols, tile)
    some = ndimage.maximum_filter(blocks.any(axis=(1, 3)), size=3, mode="nearest")
    every = ndimage.minimum_filter(blocks.all(axis=(1, 3)), size=3, mode="nearest")
    ty, tx = np.nonzero(some & ~every)  # tiles with both sides among their neighbours
    side = tile + 2 * reach
    mask = np.zeros((rows * tile, cols * tile), np.float32)
    mask[:height, :width] = region
    tiles = mask.reshape(rows, tile, cols, tile)
    for start in range(0, len(ty), _TILES_AT_ONCE):
        y, x = ty[start : start + _TILES_AT_ONCE], tx[start : start + _TILES_AT_ONCE]
        windows = np.lib.stride_tricks.sliding_window_view(padded, (side, side))[y * tile, x * tile]
        inner = np.s_[:, reach : reach + tile, reach : reach + tile]
        tiles[y, :, x, :] = _ramp(windows[inner], _distances(windows, reach)[inner], grow, feather)
    return mask[:height, :width]


def _distances(windows: np.ndarray, reach: int) -> np.ndarray:
    """(n, S, S) bool -> float64 Euclidean distance of each pixel to the nearest pixel of
    the other side, exact where that is at most ``reach`` (larger elsewhere)."""
    if reach <= _SHIFTED_REACH:
        return np.sqrt(_near_distance_squared(windows, reach).astype(np.float64))
    distance = np.empty(windows.shape)
    for window, out in zip(windows, distance, strict=True):
        if window.any() and not window.all():
            out[window] = ndimage.distance_transform_edt(window)[window]
            out[~window] = ndimage.distance_transform_edt(~window)[~window]
        else:  # both sides among the neighbours but not within reach: all keep their value
            out.fill(reach + 1)
    return distance


def _near_distance_squared(windows: np.ndarray, reach: int) -> np.ndarray:
    """(n, S, S) bool -> each pixel's squared Euclidean distance to the nearest pixel of the
    other side, exact where that is at most ``reach`` (larger elsewhere). Separable, as in
    Saito & Toriwaki: the distance along each column to that side (``reach`` one-pixel
    steps each way), then d² = min over |dx| ≤ reach of dx² + column distance²."""
    far = reach + 1
    found = []
    for target in (~windows, windows):  # inside pixels look for outside ones, and back
        along = np.where(target, 0, far).astype(np.int16)
        for _ in range(reach):
            np.minimum(along[:, 1:], along[:, :-1] + 1, out=along[:, 1:])
            np.minimum(along[:, :-1], along[:, 1:] + 1, out=along[:, :-1])
        column = along * along
        squared = column.copy()
        for dx in range(1, reach + 1):
            np.minimum(squared[:, :, dx:], column[:, :, :-dx] + dx * dx, out=squared[:, :, dx:])
            np.minimum(squared[:, :, :-dx], column[:, :, dx:] + dx * dx, out=squared[:, :, :-dx])
        found.append(squared)
    return np.where(windows, found[0], found[1])


def _ramp(region: np.ndarray, distance: np.ndarray, grow: float, feather: float) -> np.ndarray:
    # Signed distance from the edge, which lies half a pixel outside the region's pixels:
    # > 0 inside, < 0 outside. float64 distances, float32 from here: as it always was.
    signed = np.where(region, distance - 0.5, 0.5 - distance).astype(np.float32) + np.float32(grow)
    if feather <= 0:
        return (signed > 0).astype(np.float32)
    t = np.clip((signed + feather) / (2.0 * feather), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)  # smoothstep: no kink at the ends


def save_mask(path: Path, mask: np.ndarray) -> Path:
    """8-bit greyscale PNG, written atomically."""
    image = Image.fromarray(to_uint8(mask), mode="L")
    write_atomically(
        path,
        lambda tmp: image.save(tmp, format="PNG"),
        verify=lambda tmp: verify_image_file(tmp, "PNG", image.size, shown_as=path),
        size_hint=mask.size,
    )
    return path


def load_mask(path: Path) -> np.ndarray:
    """A mask painted elsewhere, (H, W) float32 in [0, 1]: white is stylised, black kept.
    Read like any photo (same formats and checks); colour masks count by their brightness,
    and a transparent pixel counts as black."""
    image = load_image(path)
    mask = image.rgb.mean(axis=2, dtype=np.float32)
    if image.alpha is not None:
        mask = mask * image.alpha
    return np.clip(mask, 0.0, 1.0)


def fit_mask(mask: np.ndarray, height: int, width: int, name: str = "the mask") -> np.ndarray:
    """``mask`` at (height, width), float32 in [0, 1]: resized (bilinear) when it has the
    image's shape at another size, e.g. painted on a preview. A mask of another shape is an
    error: stretched, it would select the wrong pixels."""
    mask_h, mask_w = mask.shape
    if (mask_h, mask_w) == (height, width):
        return np.clip(mask, 0.0, 1.0).astype(np.float32, copy=False)
    # The image's height at the mask's width, allowing the rounding of a scaled-down copy.
    expected_h = mask_w * height / width
    if abs(mask_h - expected_h) > 1.0 + 0.01 * mask_h:
        raise StylerError(
            f"{name} is {mask_w}×{mask_h} pixels but the image is {width}×{height}: "
            "a mask must have the image's size or at least its aspect ratio"
        )
    resized = Image.fromarray(mask.astype(np.float32), mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
