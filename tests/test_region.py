"""Box-only rendering: inside the box it equals the whole-image render; large regions and
crop=False render the whole photo."""

from __future__ import annotations

import numpy as np
import pytest

from engine.region import render_region
from engine.stylizer import Stylizer

# Gathering positions changes which SDPA/conv blocks run together, so float sums are
# reordered; nothing else differs. 1e-4 is 1/40 of an 8-bit level: invisible in any output.
TOLERANCE = 1e-4


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / w, yy / h, 0.5 + 0.4 * np.sin(xx / 9.0) * np.cos(yy / 7.0)], axis=2)
    return np.clip(base + rng.normal(0, 0.05, (h, w, 3)), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def stylizer(model_path) -> Stylizer:
    s = Stylizer.from_file(model_path, device="cpu", style_size=64)
    s.set_style(np.random.default_rng(7).random((48, 56, 3), dtype=np.float32))
    return s


@pytest.mark.parametrize("strength, preserve_color", [(1.0, False), (0.6, True)])
def test_box_render_equals_whole_render_inside_the_box(stylizer, strength, preserve_color):
    rgb = _photo(240, 256)
    mask = np.zeros((240, 256), np.float32)
    mask[100:130, 120:150] = 1.0  # interior: the halo is cut from real neighbours, not borders
    stylized, box = render_region(stylizer, rgb, mask, strength, preserve_color)
    top, left, bottom, right = box
    assert (top, left) == (96, 112) and (bottom, right) == (144, 160)  # outward to the 16-grid
    whole = stylizer.render(strength=strength, preserve_color=preserve_color)
    np.testing.assert_allclose(stylized, whole[top:bottom, left:right], rtol=0, atol=TOLERANCE)


def test_box_at_the_photo_edge_equals_whole_render(stylizer):
    rgb = _photo(200, 232, seed=1)  # not a multiple of 16: the render pads, the box is clipped
    mask = np.zeros((200, 232), np.float32)
    mask[180:, 210:] = 0.5
    stylized, box = render_region(stylizer, rgb, mask)
    assert box == (176, 208, 200, 232)
    whole = stylizer.render()
    np.testing.assert_allclose(stylized, whole[176:, 208:], rtol=0, atol=TOLERANCE)


def test_large_region_and_crop_off_render_the_whole_photo(stylizer):
    rgb = _photo(64, 80, seed=2)
    small = np.zeros((64, 80), np.float32)
    small[30:34, 40:44] = 1.0  # the halo alone covers most of so small a photo
    stylized, box = render_region(stylizer, rgb, small)
    assert box == (0, 0, 64, 80) and stylized.shape == (64, 80, 3)
    big = np.zeros((240, 256), np.float32)
    big[20:220, 20:230] = 1.0
    _, box = render_region(stylizer, _photo(240, 256), big, crop=False)
    assert box == (0, 0, 240, 256)


def test_out_of_memory_in_a_box_render_retries_on_the_lean_path(model_path, monkeypatch):
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=64)
    stylizer.set_style(np.random.default_rng(7).random((48, 56, 3), dtype=np.float32))
    rgb = _photo(240, 256, seed=3)
    mask = np.zeros((240, 256), np.float32)
    mask[100:130, 120:150] = 1.0
    want, box = render_region(stylizer, rgb, mask)

    def decode_without_memory(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")

    monkeypatch.setattr(stylizer.model, "decode", decode_without_memory)
    got, same_box = render_region(stylizer, rgb, mask)
    assert stylizer.lean and same_box == box
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
