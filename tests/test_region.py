"""Window renders (``Stylizer.render(window=box)``): inside the box they equal the
whole-image render; large windows are cut from a whole render; the out-of-memory fallback
and the caches serve them like whole renders. Through the Pipeline, an explicit mask takes
the same path as a prompt's."""

from __future__ import annotations

import numpy as np
import pytest

from engine.compose import region_box
from engine.image_io import LoadedImage
from engine.options import RenderOptions
from engine.pipeline import Pipeline
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
def test_window_render_equals_whole_render_inside_the_box(stylizer, strength, preserve_color):
    stylizer.set_content(_photo(240, 256))
    box = (100, 120, 130, 150)  # interior: the halo is cut from real neighbours, not borders
    windowed = stylizer.render(strength=strength, preserve_color=preserve_color, window=box)
    assert windowed.shape == (30, 30, 3)
    whole = stylizer.render(strength=strength, preserve_color=preserve_color)
    np.testing.assert_allclose(windowed, whole[100:130, 120:150], rtol=0, atol=TOLERANCE)


def test_a_window_is_computed_over_the_box_not_cut_from_a_whole_render(stylizer, monkeypatch):
    stylizer.set_content(_photo(240, 256, seed=5))
    sizes: list[tuple[int, ...]] = []
    attend = stylizer.model.attend

    def recording_attend(content, memories, level, chunk_size=None, window=None):  # type: ignore[no-untyped-def]
        out = attend(content, memories, level, chunk_size, window)
        sizes.append(tuple(out.shape[-2:]))
        return out

    monkeypatch.setattr(stylizer.model, "attend", recording_attend)
    stylizer.render(window=(100, 120, 130, 150))
    stride = 2 ** (stylizer.model.levels[0] - 1)
    # The box plus the 64-px halo on the 16-px grid: rows 32-208, columns 48-224.
    assert sizes[0] == (176 // stride, 176 // stride)


def test_window_at_the_photo_edge_equals_whole_render(stylizer):
    stylizer.set_content(_photo(200, 232, seed=1))  # not a multiple of 16: padded, box clipped
    windowed = stylizer.render(window=(180, 210, 200, 232))
    whole = stylizer.render()
    np.testing.assert_allclose(windowed, whole[180:, 210:], rtol=0, atol=TOLERANCE)


def test_a_large_window_is_cut_from_the_whole_render(stylizer):
    stylizer.set_content(_photo(64, 80, seed=2))
    whole = stylizer.render()
    windowed = stylizer.render(window=(30, 40, 34, 44))  # the halo alone covers most of the photo
    np.testing.assert_array_equal(windowed, whole[30:34, 40:44])


def test_out_of_memory_in_a_window_render_retries_on_the_lean_path(model_path, monkeypatch):
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=64)
    stylizer.set_style(np.random.default_rng(7).random((48, 56, 3), dtype=np.float32))
    stylizer.set_content(_photo(240, 256, seed=3))
    box = (100, 120, 130, 150)
    want = stylizer.render(window=box)
    stylizer.clear_caches()
    stylizer.set_style(np.random.default_rng(7).random((48, 56, 3), dtype=np.float32))
    stylizer.set_content(_photo(240, 256, seed=3))

    def decode_without_memory(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")

    monkeypatch.setattr(stylizer.model, "decode", decode_without_memory)
    got = stylizer.render(window=box)
    assert stylizer.lean
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_an_explicit_mask_renders_only_its_box_and_keeps_the_rest(stylizer, monkeypatch):
    pipeline = Pipeline(stylizer)
    image = LoadedImage(_photo(240, 256, seed=4), None, None, None)
    mask = np.zeros((120, 128), np.float32)  # painted at half size: scaled to the photo
    mask[50:65, 60:75] = 1.0
    windows: list[object] = []
    render = stylizer.render
    monkeypatch.setattr(stylizer, "render", lambda *a, **k: windows.append(k.get("window")) or render(*a, **k))
    result = pipeline.render(image, RenderOptions(), mask=mask)
    assert result.mask is not None and result.mask.shape == (240, 256)
    outside = result.mask == 0
    assert np.array_equal(result.rgb[outside], image.rgb[outside])
    assert np.abs(result.rgb[result.mask == 1] - image.rgb[result.mask == 1]).mean() > 0.01
    assert windows == [region_box(result.mask)]  # only the mask's box was rendered
    top, left, bottom, right = windows[0]  # type: ignore[misc]
    assert (bottom - top) * (right - left) < 0.05 * 240 * 256
