"""Reading and writing every kind of photo people have."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image, ImageCms

from engine import image_io
from engine.errors import StylerError
from engine.image_io import load_image, resize_to_max_side, save_image
from tests.conftest import random_photo


def test_exif_orientation_is_applied_and_reset(tmp_path):
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :10] = 255  # a white band on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif.tobytes(), quality=100)
    loaded = load_image(path)
    assert loaded.size == (20, 40)  # displayed upright: width and height swapped
    assert loaded.rgb[:10].mean() > 0.9  # the band is now on top
    out = tmp_path / "out.jpg"
    save_image(out, loaded.rgb, exif=loaded.exif)
    with Image.open(out) as written:
        assert written.getexif()[0x0112] == 1
        assert written.size == (20, 40)


def test_alpha_is_kept_and_reattached(tmp_path):
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = np.linspace(0, 255, 12).astype(np.uint8)
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_image(path)
    assert loaded.alpha is not None and loaded.alpha.shape == (10, 12)
    out = save_image(tmp_path / "b.png", loaded.rgb, alpha=loaded.alpha)
    with Image.open(out) as written:
        assert written.mode == "RGBA"
        assert np.array_equal(np.asarray(written)[..., 3], rgba[..., 3])


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "LA", "1"])
def test_modes_convert_to_rgb(tmp_path, mode):
    suffix = ".tif" if mode == "CMYK" else ".png"
    path = random_photo(tmp_path / f"x{suffix}", (17, 9), mode=mode)
    loaded = load_image(path)
    assert loaded.rgb.shape == (9, 17, 3) and loaded.rgb.dtype == np.float32
    assert 0.0 <= loaded.rgb.min() and loaded.rgb.max() <= 1.0
    assert (loaded.alpha is not None) == (mode == "LA")


def test_16_bit_greyscale_keeps_precision(tmp_path):
    values = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    loaded = load_image(path)
    np.testing.assert_allclose(loaded.rgb[..., 0], values / 65535.0, atol=1e-6)


def test_palette_transparency_becomes_alpha(tmp_path):
    img = Image.new("P", (6, 6), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.info["transparency"] = 0
    img.putpixel((0, 0), 0)
    path = tmp_path / "p.png"
    img.save(path, transparency=0)
    loaded = load_image(path)
    assert loaded.alpha is not None and loaded.alpha[0, 0] == 0.0 and loaded.alpha[1, 1] == 1.0


def test_icc_profile_is_carried(tmp_path):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = random_photo(tmp_path / "icc.jpg", (16, 16), icc_profile=profile)
    loaded = load_image(path)
    assert loaded.icc_profile == profile
    out = save_image(tmp_path / "o.png", loaded.rgb, icc_profile=loaded.icc_profile)
    with Image.open(out) as written:
        assert written.info.get("icc_profile") == profile


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".bmp", ".tiff"])
def test_formats_round_trip(tmp_path, suffix):
    path = random_photo(tmp_path / f"in{suffix}", (33, 21))
    loaded = load_image(path)
    out = save_image(tmp_path / f"out{suffix}", loaded.rgb)
    assert load_image(out).size == (33, 21)


def test_errors_are_one_clear_line(tmp_path):
    with pytest.raises(StylerError, match="file not found"):
        load_image(tmp_path / "missing.jpg")
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(StylerError, match="not an image"):
        load_image(text)
    good = random_photo(tmp_path / "full.jpg", (64, 64))
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(StylerError, match="damaged or truncated"):
        load_image(truncated)
    with pytest.raises(StylerError, match="is a folder"):
        load_image(tmp_path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    monkeypatch.setattr(image_io, "MAX_PIXELS", 1000)
    path = random_photo(tmp_path / "big.png", (50, 50))
    with pytest.raises(StylerError, match="safety limit"):
        load_image(path)


def test_zero_size_image_is_refused(tmp_path):
    # A BMP whose header claims 0×0 pixels.
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "BMP")
    data = bytearray(buf.getvalue())
    data[18:22] = (0).to_bytes(4, "little")
    data[22:26] = (0).to_bytes(4, "little")
    path = tmp_path / "empty.bmp"
    path.write_bytes(bytes(data))
    with pytest.raises(StylerError, match="empty.bmp"):
        load_image(path)


def test_resize_caps_longer_side_and_keeps_small_images(tmp_path):
    loaded = load_image(random_photo(tmp_path / "r.png", (300, 120)))
    assert resize_to_max_side(loaded, 150).size == (150, 60)
    assert resize_to_max_side(loaded, 300) is loaded
    assert resize_to_max_side(loaded, None) is loaded


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def broken_save(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(StylerError, match="no space left"):
        save_image(target, np.zeros((4, 4, 3), np.float32))
    assert target.read_bytes() == b"previous result"
    assert sorted(os.listdir(tmp_path)) == ["out.png"]


def test_unknown_output_suffix(tmp_path):
    with pytest.raises(StylerError, match="unknown image suffix"):
        save_image(tmp_path / "x.gifx", np.zeros((2, 2, 3), np.float32))


def test_outputs_get_ordinary_file_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        out = save_image(tmp_path / "o.png", np.zeros((2, 2, 3), np.float32))
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o644
