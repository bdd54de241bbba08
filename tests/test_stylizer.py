"""The Stylizer: padding, caching, strength, colour, cancellation and the low-memory path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import stylizer as stylizer_module
from engine.checkpoint import load_model
from engine.errors import Cancelled, StylerError
from engine.image_sizes import pad_to_stride
from engine.lean_decode import decode_tiled
from engine.network import StyleNet, StyleNetConfig
from engine.stylizer import Stylizer


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


@pytest.fixture()
def stylizer(model_path) -> Stylizer:
    s = Stylizer.from_file(model_path, device="cpu", style_size=64)
    s.set_style(_rgb(48, 40, seed=1))
    return s


@pytest.mark.parametrize("h, w", [(37, 53), (16, 16), (5, 3), (1, 9), (64, 48)])
def test_any_size_comes_back_at_its_size(stylizer, h, w):
    stylizer.set_content(_rgb(h, w))
    out = stylizer.render()
    assert out.shape == (h, w, 3)
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_padding_reflects_and_is_cropped_exactly():
    image = torch.arange(3 * 17 * 20, dtype=torch.float32).reshape(1, 3, 17, 20)
    padded, size = pad_to_stride(image)
    assert padded.shape[-2:] == (32, 32) and size == (17, 20)
    assert torch.equal(padded[..., :17, :20], image)
    assert torch.equal(padded[..., 17, :20], image[..., 15, :])  # reflection, not zeros


def test_strength_zero_reconstructs_content_features_and_one_is_full_style(stylizer):
    stylizer.set_content(_rgb(32, 32))
    full = stylizer.render(strength=1.0)
    none = stylizer.render(strength=0.0)
    half = stylizer.render(strength=0.5)
    assert not np.allclose(full, none)
    assert np.abs(half - full).mean() > 0 and np.abs(half - none).mean() > 0


def test_changing_strength_reuses_attention(stylizer, monkeypatch):
    stylizer.set_content(_rgb(32, 48))
    stylizer.render(strength=1.0)
    calls = []
    original = stylizer.model.attend
    monkeypatch.setattr(stylizer.model, "attend", lambda *a, **k: calls.append(1) or original(*a, **k))
    stylizer.render(strength=0.3)
    stylizer.render(strength=0.3, preserve_color=True)
    assert calls == []  # strength and colour changes never recompute attention


def test_style_memories_are_cached_per_style(stylizer, monkeypatch):
    calls = []
    original = stylizer.model.style_memories
    monkeypatch.setattr(stylizer.model, "style_memories", lambda *a, **k: calls.append(1) or original(*a, **k))
    first, second = _rgb(40, 40, 5), _rgb(40, 40, 6)
    stylizer.set_style(first)
    stylizer.set_style(second)
    stylizer.set_style(first)
    assert len(calls) == 2


def test_a_style_encoded_ahead_leaves_the_current_one_current_even_when_it_fails(stylizer):
    stylizer.set_content(_rgb(32, 32))
    current = stylizer.style_key
    before = stylizer.render(1.0, False)
    stylizer.encode_style(_rgb(40, 40, 7), "ahead")  # idle-time prefetch
    assert stylizer.style_key == current and stylizer.has_style("ahead")
    with pytest.raises(ValueError):
        stylizer.encode_style(np.zeros((40, 40)), "broken")  # not an RGB image
    assert stylizer.style_key == current and not stylizer.has_style("broken")
    np.testing.assert_array_equal(stylizer.render(1.0, False), before)
    assert stylizer.select_style("ahead") and stylizer.style_key == "ahead"


def test_encoding_a_style_ahead_stops_within_a_layer_when_cancelled(stylizer):
    current = stylizer.style_key
    asked: list[int] = []

    def cancel() -> bool:  # stop at the fifth encoder layer
        asked.append(1)
        return len(asked) >= 5

    with pytest.raises(Cancelled):
        stylizer.encode_style(_rgb(40, 40, 8), "stopped", cancel)
    assert len(asked) == 5 and stylizer.style_key == current and not stylizer.has_style("stopped")
    stylizer.encode_style(_rgb(40, 40, 8), "stopped")  # no question asked afterwards
    assert len(asked) == 5 and stylizer.has_style("stopped")


def test_same_content_is_encoded_once(stylizer, monkeypatch):
    calls = []
    original = stylizer.model.features
    monkeypatch.setattr(stylizer.model, "features", lambda *a, **k: calls.append(1) or original(*a, **k))
    image = _rgb(32, 32, 9)
    stylizer.set_content(image)
    stylizer.set_content(image.copy())
    assert len(calls) == 1


def test_preserve_color_keeps_content_chroma(stylizer):
    content = _rgb(32, 32, 3)
    stylizer.set_content(content)
    out = stylizer.render(preserve_color=True)
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    chroma_in = content - (content @ luma)[..., None]
    chroma_out = out - (out @ luma)[..., None]
    inside = (out > 0.01).all(axis=2) & (out < 0.99).all(axis=2)  # unclipped pixels
    np.testing.assert_allclose(chroma_out[inside], chroma_in[inside], atol=1e-5)


def test_cancel_stops_between_steps(stylizer):
    stylizer.set_content(_rgb(32, 32))
    with pytest.raises(Cancelled):
        stylizer.render(cancel=lambda: True)


def test_progress_is_reported_to_the_end(stylizer):
    stylizer.set_content(_rgb(32, 32))
    seen = []
    stylizer.render(progress=lambda fraction, message: seen.append(fraction))
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_out_of_memory_falls_back_to_the_lean_path(stylizer, monkeypatch):
    stylizer.set_content(_rgb(64, 80))
    want = stylizer.render()
    stylizer._decoded = stylizer._attended = None
    original = stylizer.model.decode
    monkeypatch.setattr(stylizer_module, "LEAN_DECODER_TILE", 2)  # many tiles, even here

    def decode_without_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(stylizer.model, "decode", decode_without_memory)
    got = stylizer.render()
    assert stylizer.lean
    np.testing.assert_allclose(got, want, atol=1e-5)
    monkeypatch.setattr(stylizer.model, "decode", original)


def test_tiled_decoder_equals_whole_decoder(model_path):
    model, _ = load_model(model_path)
    gen = torch.Generator().manual_seed(0)
    attended = {3: torch.randn(1, 256, 28, 36, generator=gen), 4: torch.randn(1, 512, 14, 18, generator=gen),
                5: torch.randn(1, 512, 7, 9, generator=gen)}
    with torch.no_grad():
        whole = model.decode(attended)
        tiled = decode_tiled(model, attended, tile=4)
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("levels", [(3, 4, 5), (3, 5), (3, 4), (4, 5), (5,)])
def test_levels_can_be_switched_off(levels):
    model = StyleNet(StyleNetConfig(levels=levels))
    s = Stylizer(model, device="cpu", style_size=48)
    s.set_style(_rgb(40, 40, 1))
    s.set_content(_rgb(33, 47))
    assert s.render().shape == (33, 47, 3)


def test_levels_without_a_deep_level_are_refused():
    with pytest.raises(ValueError, match="4 or 5"):
        StyleNetConfig(levels=(3,))


def test_render_before_inputs_is_a_clear_error(model_path):
    s = Stylizer.from_file(model_path, device="cpu")
    with pytest.raises(StylerError, match="no content"):
        s.render()


def test_style_attention_modes_bound_the_style_positions(model_path):
    """A 320-px style has 80 × 80 relu3_1 positions: pooled and release keep 4096 or fewer at
    level 3, exact keeps all; both reductions are deterministic without a seed."""
    rgb = np.random.default_rng(5).random((320, 320, 3), dtype=np.float32)

    def level3_keys(mode: str) -> torch.Tensor:
        stylizer = Stylizer.from_file(model_path, style_size=None, style_attention=mode)
        made = []
        encode = stylizer.model.style_memories
        stylizer.model.style_memories = lambda *a, **k: made.append(encode(*a, **k)) or made[-1]  # type: ignore[method-assign]
        stylizer.set_style(rgb)
        return made[0][3].keys

    pooled = level3_keys("pooled")
    assert pooled.shape[1] == 40 * 40
    torch.testing.assert_close(pooled, level3_keys("pooled"))
    release = level3_keys("release")
    assert release.shape[1] == 64 * 64
    torch.testing.assert_close(release, level3_keys("release"))
    assert level3_keys("exact").shape[1] == 80 * 80


def test_unknown_style_attention_is_one_clear_error(model_path):
    with pytest.raises(StylerError, match="unknown style attention 'fast'"):
        Stylizer.from_file(model_path, style_attention="fast")
