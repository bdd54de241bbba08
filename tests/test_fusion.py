"""Fusion: the photo outside the mask comes back bit for bit, in memory and in the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.compose import fuse, linear_to_srgb, srgb_to_linear
from engine.image_io import load_image
from engine.options import RenderOptions
from engine.pipeline import Pipeline
from engine.segment import Segmenter
from engine.stylizer import Stylizer
from tests.conftest import random_photo
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)


def _rgb(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def test_zero_mask_is_bit_identical_and_one_is_the_stylized_pixel():
    original, stylized = _rgb(20, 30, 0), _rgb(20, 30, 1)
    mask = np.zeros((20, 30), np.float32)
    mask[5:10, 5:25] = 1.0
    mask[12:15, 10:20] = 0.37
    out = fuse(original, stylized, mask)
    assert np.array_equal(out[mask == 0], original[mask == 0])
    assert np.array_equal(out[mask == 1], stylized[mask == 1])
    assert out.dtype == np.float32 and out is not original


def test_partial_mask_blends_in_linear_light():
    original = np.zeros((1, 1, 3), np.float32)  # black
    stylized = np.ones((1, 1, 3), np.float32)  # white
    out = fuse(original, stylized, np.full((1, 1), 0.5, np.float32))
    # Half the light of white is sRGB ≈ 0.735, not the 0.5 a gamma-space blend gives.
    np.testing.assert_allclose(out[0, 0], linear_to_srgb(np.float32(0.5)), atol=1e-6)
    assert out[0, 0, 0] == pytest.approx(0.7354, abs=1e-3)


def test_srgb_round_trip():
    x = np.linspace(0, 1, 1001, dtype=np.float32)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-6)


def test_stylized_box_lands_in_place():
    original, stylized = _rgb(20, 30, 0), _rgb(6, 8, 1)
    mask = np.zeros((20, 30), np.float32)
    mask[4:8, 10:16] = 1.0
    out = fuse(original, stylized, mask, box=(3, 9, 9, 17))
    np.testing.assert_array_equal(out[4:8, 10:16], stylized[1:5, 1:7])
    assert np.array_equal(out[mask == 0], original[mask == 0])
    with pytest.raises(ValueError, match="does not cover"):
        fuse(original, stylized, mask, box=(0, 0, 10, 10))


# ---------------------------------------------------------------- through the pipeline


@pytest.fixture(scope="module")
def pipeline(model_path: Path, clipseg_dir: Path) -> Pipeline:
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=64)
    stylizer.set_style(_rgb(40, 48, 3))
    return Pipeline(stylizer, segmenter=Segmenter.from_folder(clipseg_dir, "cpu"))


def test_saved_png_equals_the_input_outside_the_mask(pipeline, tmp_path):
    source = random_photo(tmp_path / "photo.png", (80, 64), seed=4)
    options = RenderOptions(prompts=("the bed",), save_mask=True, feather=2.0)
    result = pipeline.render_file(source, tmp_path / "out.png", options)
    mask = result.mask
    assert mask is not None and 0.02 < float((mask > 0).mean()) < 0.98  # a real, partial region
    before = np.asarray(Image.open(source))
    after = np.asarray(Image.open(tmp_path / "out.png"))
    outside = mask == 0
    assert np.array_equal(after[outside], before[outside])
    assert np.abs(after[mask == 1].astype(int) - before[mask == 1]).mean() > 1  # it was stylised
    with Image.open(tmp_path / "out.mask.png") as saved:
        assert saved.mode == "L" and saved.size == (80, 64)
        assert np.array_equal(np.asarray(saved) == 0, outside)


def test_invert_stylises_the_complement(pipeline, tmp_path):
    image = load_image(random_photo(tmp_path / "photo.png", (64, 48), seed=6))
    plain = pipeline.render(image, RenderOptions(prompts=("the bed",), feather=0, min_area=0))
    inverted = pipeline.render(image, RenderOptions(prompts=("the bed",), feather=0, min_area=0, invert=True))
    assert 0.0 < float(plain.mask.mean()) < 1.0
    assert np.array_equal(inverted.mask, 1.0 - plain.mask)
    assert np.array_equal(inverted.rgb[plain.mask == 1], image.rgb[plain.mask == 1])
