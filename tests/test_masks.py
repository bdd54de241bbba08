"""Mask post-processing on synthetic inputs: prompt logic, upsampling, refinement,
threshold, specks, grow/shrink and feather."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from engine.masks import (
    combine_logits,
    finish_mask,
    probability_map,
    remove_specks,
    save_mask,
    shape_region,
)
from engine.naming import mask_path_for
from engine.options import MaskSettings


def _disc(size: int, radius: float, centre: tuple[float, float] | None = None) -> np.ndarray:
    cy, cx = centre or ((size - 1) / 2, (size - 1) / 2)
    yy, xx = np.mgrid[0:size, 0:size]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2


# ---------------------------------------------------------------- prompt logic


def _logits(*maps: np.ndarray) -> torch.Tensor:
    """Boolean maps -> logits of ±8 (sure yes / sure no)."""
    return torch.from_numpy(np.stack([np.where(m, 8.0, -8.0) for m in maps]).astype(np.float32))


def test_union_and_negative():
    left = np.zeros((8, 8), bool)
    left[:, :4] = True
    top = np.zeros((8, 8), bool)
    top[:4] = True
    union = combine_logits(_logits(left, top), None) > 0
    assert np.array_equal(union.numpy(), left | top)
    minus = combine_logits(_logits(left), _logits(top)) > 0
    assert np.array_equal(minus.numpy(), left & ~top)


def test_negative_alone_selects_everything_else():
    top = np.zeros((8, 8), bool)
    top[:3] = True
    selected = torch.sigmoid(combine_logits(None, _logits(top)))
    assert np.array_equal((selected > 0.5).numpy(), ~top)
    assert float(selected[5, 5]) > 0.999  # "everywhere" is certain, not a coin flip


def test_union_is_fuzzy_or_of_probabilities():
    a = torch.tensor([[[0.0, 2.0]]])
    b = torch.tensor([[[1.0, -3.0]]])
    p = torch.sigmoid(combine_logits(torch.cat([a, b]), None))
    expected = torch.maximum(torch.sigmoid(a), torch.sigmoid(b))[0]
    torch.testing.assert_close(p, expected)


# ---------------------------------------------------------------- upsampling + refinement


def test_upsampling_is_smooth_not_blocky():
    logits = torch.from_numpy(np.where(_disc(22, 6), 2.0, -2.0).astype(np.float32))
    p = probability_map(logits, np.zeros((220, 220, 3), np.float32), refine=False)
    assert p.shape == (220, 220)
    row = p[110]  # through the disc's centre
    # Nearest-neighbour would jump 0 -> 1 in one step, in blocks of 10 equal pixels.
    assert np.all(np.abs(np.diff(row)) < 0.25)
    assert len(np.unique(np.round(row, 3))) > 10


def test_refinement_moves_the_edge_to_the_image_edge():
    # The image has a sharp vertical edge at x = 40; CLIPSeg's logits put a blurry edge at 48.
    h, w = 64, 96
    image = np.zeros((h, w, 3), np.float32)
    image[:, :40] = 0.9
    xs = np.arange(24, dtype=np.float32)
    logits = torch.from_numpy(np.tile((12.0 - xs) * 0.8, (16, 1)))  # 0 at x = 12 of 24 -> 48 px
    rough = probability_map(logits, image, refine=False)
    refined = probability_map(logits, image, refine=True)
    edge_rough = int(np.argmax(rough[h // 2] < 0.5))
    edge_refined = int(np.argmax(refined[h // 2] < 0.5))
    assert abs(edge_rough - 48) <= 2
    assert abs(edge_refined - 40) < abs(edge_rough - 40)


def test_refinement_keeps_values_in_range_and_size():
    rng = np.random.default_rng(0)
    image = rng.random((37, 53, 3), dtype=np.float32)
    logits = torch.from_numpy(rng.normal(0, 4, (22, 22)).astype(np.float32))
    p = probability_map(logits, image)
    assert p.shape == (37, 53) and p.dtype == np.float32
    assert p.min() >= 0.0 and p.max() <= 1.0


# ---------------------------------------------------------------- threshold


@pytest.mark.parametrize("threshold", [0.1, 0.4, 0.7])
def test_threshold_selects_exactly_the_pixels_at_or_above_it(threshold):
    p = np.random.default_rng(1).random((40, 40)).astype(np.float32)
    mask = finish_mask(p, MaskSettings(threshold=threshold, feather=0, min_area=0))
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert np.array_equal(mask == 1.0, p >= threshold)


def test_higher_threshold_never_selects_more():
    p = np.random.default_rng(2).random((40, 40)).astype(np.float32)
    masks = [finish_mask(p, MaskSettings(threshold=t, feather=0, min_area=0)) for t in (0.2, 0.5, 0.8)]
    assert np.all(masks[0] >= masks[1]) and np.all(masks[1] >= masks[2])


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_invert_is_exactly_the_complement_of_the_region(threshold):
    p = np.random.default_rng(3).random((40, 40)).astype(np.float32)
    plain = finish_mask(p, MaskSettings(threshold=threshold, feather=0, min_area=0))
    inverted = finish_mask(p, MaskSettings(threshold=threshold, invert=True, feather=0, min_area=0))
    assert np.array_equal(inverted, 1.0 - plain)


def test_soft_mask_follows_confidence_inside_the_region_only():
    p = np.linspace(0, 1, 100, dtype=np.float32)[None].repeat(4, axis=0)
    mask = finish_mask(p, MaskSettings(threshold=0.5, soft=True, feather=0, min_area=0))
    assert np.all(mask[p < 0.5] == 0.0)
    np.testing.assert_array_equal(mask[p >= 0.5], p[p >= 0.5])


# ---------------------------------------------------------------- specks


def test_small_islands_go_and_small_holes_fill():
    region = _disc(100, 30)
    region[10:13, 80:83] = True  # island of 9 px
    region[48:51, 48:51] = False  # hole of 9 px
    cleaned = remove_specks(region, min_area=0.002)  # 20 px
    expected = _disc(100, 30)
    assert np.array_equal(cleaned, expected)


def test_specks_above_the_limit_stay():
    region = _disc(100, 30)
    region[5:15, 80:90] = True  # island of 100 px = 1 %
    assert np.array_equal(remove_specks(region, min_area=0.005), region)
    assert np.array_equal(remove_specks(region, min_area=0.0), region)


# ---------------------------------------------------------------- grow / shrink / feather


@pytest.mark.parametrize("grow", [3, 7.5, -4])
def test_grow_moves_the_edge_by_that_many_pixels(grow):
    region = _disc(101, 20, centre=(50, 50))
    grown = shape_region(region, grow=grow) > 0.5
    area = grown.sum()
    expected = np.pi * (20 + grow) ** 2
    assert abs(area - expected) / expected < 0.06
    if grow > 0:
        assert np.all(grown[region])  # growing only adds
    else:
        assert not np.any(grown[~region])  # shrinking only removes


def test_shrinking_away_a_small_region_leaves_nothing():
    assert not shape_region(_disc(50, 3), grow=-6).any()


def test_feather_ramps_over_plus_minus_px_and_is_exact_elsewhere():
    region = np.zeros((40, 80), bool)
    region[:, :40] = True  # edge between x = 39 and 40
    mask = shape_region(region, feather=5)
    row = mask[20]
    assert np.all(row[:34] == 1.0) and np.all(row[46:] == 0.0)  # exact beyond ±5 px
    assert np.all(np.diff(row) <= 0)  # monotone
    assert 0.0 < row[39] < 1.0 and 0.0 < row[40] < 1.0
    assert row[39] + row[40] == pytest.approx(1.0)  # centred on the edge


def test_feather_and_grow_compose():
    region = _disc(101, 20, centre=(50, 50))
    mask = shape_region(region, grow=5, feather=3)
    assert np.all(mask[_disc(101, 20 + 5 - 3.5, centre=(50, 50))] == 1.0)
    assert np.all(mask[~_disc(101, 20 + 5 + 3.5, centre=(50, 50))] == 0.0)


def test_empty_and_full_regions_pass_through_any_settings():
    empty = np.zeros((20, 20), bool)
    full = np.ones((20, 20), bool)
    assert not shape_region(empty, grow=5, feather=3).any()
    assert np.all(shape_region(full, grow=-5, feather=3) == 1.0)


# ---------------------------------------------------------------- the whole-image reference


def _reference_finish(probability: np.ndarray, settings: MaskSettings) -> np.ndarray:
    """finish_mask written the straightforward way: label and distance-transform the whole
    image. The fast one works on the region's box and along its edge only, and must give
    these values bit for bit (``--refine none`` masks are unchanged by that)."""
    region = probability >= settings.threshold
    if settings.invert:
        region = ~region
    limit = settings.min_area * region.size
    if limit >= 1:
        for polarity in (True, False):  # islands, then holes
            labels, _ = ndimage.label(region == polarity)
            small = (np.bincount(labels.ravel()) < limit)[labels] & (labels > 0)
            region = np.where(small, not polarity, region)
    mask = region.astype(np.float32)
    if region.any() and not region.all() and (settings.grow != 0 or settings.feather > 0):
        inside, outside = ndimage.distance_transform_edt(region), ndimage.distance_transform_edt(~region)
        signed = np.where(region, inside - 0.5, 0.5 - outside).astype(np.float32) + np.float32(settings.grow)
        if settings.feather <= 0:
            mask = (signed > 0).astype(np.float32)
        else:
            t = np.clip((signed + settings.feather) / (2.0 * settings.feather), 0.0, 1.0)
            mask = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    if settings.soft:
        mask *= 1.0 - probability if settings.invert else probability
    return mask


def _blobs(height: int, width: int, seed: int, smooth: float) -> np.ndarray:
    noise = np.random.default_rng(seed).random((height, width))
    p = ndimage.gaussian_filter(noise, smooth)
    return ((p - p.min()) / (p.max() - p.min())).astype(np.float32)


@pytest.mark.parametrize(
    "settings",
    [
        MaskSettings(threshold=0.5),
        MaskSettings(threshold=0.6, feather=0.0, grow=5.0, min_area=0.002),
        MaskSettings(threshold=0.4, feather=7.5, grow=-4.0, min_area=0.02),
        MaskSettings(threshold=0.55, invert=True, soft=True, feather=2.0),
        MaskSettings(threshold=0.45, soft=True, feather=20.0, grow=30.0, min_area=0.0),
        MaskSettings(threshold=0.8, feather=1.0, min_area=0.3),  # everything is a speck
    ],
)
@pytest.mark.parametrize("seed, smooth", [(0, 3.0), (1, 8.0), (2, 1.5)])
def test_finishing_equals_the_whole_image_reference_bit_for_bit(settings, seed, smooth):
    p = _blobs(230, 330, seed, smooth)  # several 64-px work tiles, regions touching the borders
    np.testing.assert_array_equal(finish_mask(p, settings), _reference_finish(p, settings))


@pytest.mark.parametrize("feather", [3.0, 10.0])  # distances by shifting, and by scipy
def test_edge_everywhere_matches_the_reference(feather):
    p = _blobs(600, 640, 3, 1.5)  # edges in every tile: more tiles than are done at once
    settings = MaskSettings(threshold=0.5, feather=feather, min_area=0.0)
    np.testing.assert_array_equal(finish_mask(p, settings), _reference_finish(p, settings))


def test_specks_and_holes_next_to_the_photo_edges_match_the_reference():
    # Holes and islands at every border and in the corners, around a region whose box
    # leaves a thin strip of background on one side only.
    region = np.ones((150, 210), bool)
    region[:, -3:] = False  # a 3-px strip on the right: 450 px, a speck below 1 %
    region[0:4, 50:54] = False  # holes at the top edge and in a corner
    region[-2:, :2] = False
    region[70:73, 100:103] = False
    p = region.astype(np.float32)
    for min_area in (0.0, 0.001, 0.01, 0.05):
        settings = MaskSettings(threshold=0.5, feather=0.0, min_area=min_area)
        np.testing.assert_array_equal(finish_mask(p, settings), _reference_finish(p, settings))
        settings = MaskSettings(threshold=0.5, feather=0.0, min_area=min_area, invert=True)
        np.testing.assert_array_equal(finish_mask(p, settings), _reference_finish(p, settings))


# ---------------------------------------------------------------- saving


def test_mask_file_is_8_bit_grey_at_mask_size(tmp_path):
    mask = np.linspace(0, 1, 30 * 20, dtype=np.float32).reshape(20, 30)
    path = save_mask(tmp_path / "m.png", mask)
    with Image.open(path) as img:
        assert img.mode == "L" and img.size == (30, 20)
        pixels = np.asarray(img)
    assert pixels[0, 0] == 0 and pixels[-1, -1] == 255
    assert mask_path_for(tmp_path / "out.jpg") == tmp_path / "out.mask.png"
