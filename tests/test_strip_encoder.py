"""Photos past one GPU pass: the encoder in strips and the decoder in tiles, equal to one
pass up to float rounding (engine/strip_encoder.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import strip_encoder
from engine.network import StyleNet, StyleNetConfig
from engine.stylizer import Stylizer


@pytest.mark.parametrize("encoder", ["vgg_normalised", "torchvision"])
def test_strip_encoding_gives_the_one_pass_features_and_keys(monkeypatch, encoder):
    monkeypatch.setattr(strip_encoder, "MAX_STRIP_ELEMENTS", 64 * 50 * 60)  # 16-row strips at 48 px wide
    assert strip_encoder.strip_rows(48) == 16
    torch.manual_seed(0)
    model = StyleNet(StyleNetConfig(encoder=encoder)).eval()
    image = torch.rand(1, 3, 112, 48)  # seven strips
    with torch.inference_mode():
        whole, strips = model.features(image), model.features(image, in_strips=True)
    for level in model.levels:
        torch.testing.assert_close(strips.feature[level], whole.feature[level], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(strips.key[level], whole.key[level], atol=1e-4, rtol=1e-4)


def test_a_photo_past_one_pass_renders_as_one_pass_would(model_path, monkeypatch):
    """The Stylizer takes the strips and the tiled decoder on its own once the photo is
    past the (here lowered) 32-bit index limit, and the picture does not change."""
    rng = np.random.default_rng(0)
    photo = rng.random((150, 200, 3), dtype=np.float32)
    style = rng.random((64, 64, 3), dtype=np.float32)

    def render() -> np.ndarray:
        stylizer = Stylizer.from_file(model_path, device="cpu", style_size=64)
        stylizer.set_style(style)
        stylizer.set_content(photo)
        return stylizer.render()

    whole = render()
    strips: list[int] = []
    tiles: list[int] = []
    original_strips, original_tiles = strip_encoder.strip_features, StyleNet.decode
    monkeypatch.setattr(strip_encoder, "INDEX_LIMIT", 64 * 100 * 100)
    monkeypatch.setattr(strip_encoder, "MAX_STRIP_ELEMENTS", 64 * 70 * 210)
    monkeypatch.setattr("engine.stylizer.LARGE_DECODER_TILE", 8)
    monkeypatch.setattr("engine.network.strip_features", lambda *a: strips.append(1) or original_strips(*a))
    monkeypatch.setattr(StyleNet, "decode", lambda *a: tiles.append(1) or original_tiles(*a))
    in_parts = render()
    assert strips and not tiles, "the big photo went through one encoder and one decoder pass"
    np.testing.assert_allclose(in_parts, whole, atol=2e-4)


def test_a_cpu_keeps_the_full_size_memory_bound_for_photos_in_strips(model_path, monkeypatch):
    """On a CPU running out of memory can end the process rather than raise, so a photo past
    one pass is still refused by the bound of a one-pass encoding, strips or not."""
    from engine.errors import StylerError
    from engine.image_sizes import encoder_bytes

    monkeypatch.setattr(strip_encoder, "INDEX_LIMIT", 64 * 100 * 100)
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=64)
    h, w = 150, 200  # past the lowered limit: encoded in strips
    between = (encoder_bytes(h, w, torch.float32, in_strips=True) + encoder_bytes(h, w, torch.float32)) // 2
    monkeypatch.setattr("engine.stylizer.available_memory", lambda device: between)
    with pytest.raises(StylerError, match="needs about"):
        stylizer.check_memory(h, w, "the photo", "smaller_image")
