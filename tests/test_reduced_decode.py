"""load_image(path, max_side): decoded no larger than asked (issue 12's memory item), and
the same picture as decoding in full and then resizing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.image_io import load_image, resize_to_max_side
from tests.conftest import random_photo


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_reduced_decode_matches_full_decode_then_resize(tmp_path, suffix):
    path = random_photo(tmp_path / f"big{suffix}", (900, 600), seed=4)
    reduced = load_image(path, 128)
    reference = resize_to_max_side(load_image(path), 128)
    assert reduced.size == reference.size == (128, 85)
    assert np.abs(reduced.rgb - reference.rgb).mean() < 0.03


def test_orientation_is_applied_to_a_reduced_decode(tmp_path):
    pixels = np.zeros((200, 400, 3), np.uint8)
    pixels[:, :100] = 255  # a white band on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif.tobytes(), quality=95)
    loaded = load_image(path, 100)
    assert loaded.size == (50, 100)  # upright: portrait
    assert loaded.rgb[:20].mean() > 0.9 and loaded.rgb[-20:].mean() < 0.1  # the band is on top


def test_16_bit_precision_survives_a_reduced_decode(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 512).astype(np.uint16), (64, 1))
    path = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(path)
    loaded = load_image(path, 256)
    assert loaded.size == (256, 32)
    row = loaded.rgb[16, :, 0]
    assert len(np.unique(row)) > 250  # more distinct levels than 8 bits could hold here
    assert abs(float(row[0])) < 0.01 and abs(float(row[-1]) - 1.0) < 0.01


def test_alpha_and_palette_survive_a_reduced_decode(tmp_path):
    rgba = np.zeros((300, 400, 4), np.uint8)
    rgba[..., 1] = 180
    rgba[..., 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png", 100)
    assert loaded.alpha is not None and loaded.alpha.shape == (75, 100)
    assert abs(float(loaded.alpha.mean()) - 128 / 255) < 0.01
    random_photo(tmp_path / "p.png", (300, 200), mode="P")
    assert load_image(tmp_path / "p.png", 60).size == (60, 40)
