"""The CLIPSeg wrapper: the real loading path, caching that changes no result, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import StylerError
from engine.image_io import to_uint8
from engine.segment import Segmenter, load_segmenter
from tests.tiny_clipseg import IMAGE_SIZE, clipseg_dir, write_tiny_clipseg  # noqa: F401 (fixture)


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / w, yy / h, np.full((h, w), 0.5)], axis=2)
    return np.clip(base + rng.normal(0, 0.05, (h, w, 3)), 0, 1).astype(np.float32)


@pytest.fixture()
def segmenter(clipseg_dir: Path) -> Segmenter:
    return Segmenter.from_folder(clipseg_dir, "cpu")


def _uncached(segmenter: Segmenter, rgb: np.ndarray, prompts: list[str]) -> torch.Tensor:
    """transformers' own one-call forward, as its documentation shows it."""
    inputs = segmenter.processor(
        text=prompts, images=[to_uint8(rgb)] * len(prompts), padding=True, return_tensors="pt"
    )
    with torch.inference_mode():
        return segmenter.model(**inputs).logits


def test_cached_logits_equal_the_uncached_forward(segmenter):
    rgb = _photo(50, 70)
    prompts = ["the bed", "a sky with clouds", "cat"]
    segmenter.set_image(rgb)
    cached = segmenter.logits(prompts)
    reference = _uncached(segmenter, rgb, prompts)
    assert cached.shape == (3, IMAGE_SIZE, IMAGE_SIZE)
    # Padding the batch to one length and fusing kernels reorder float sums; nothing else.
    torch.testing.assert_close(cached, reference, rtol=1e-4, atol=1e-4)
    # Asked again from the caches, alone rather than in a batch: the same answer.
    torch.testing.assert_close(segmenter.logits(["cat"])[0], cached[2], rtol=1e-5, atol=1e-5)


def test_new_prompt_reruns_only_text_and_decoder(segmenter, monkeypatch):
    rgb = _photo(40, 40, seed=1)
    segmenter.set_image(rgb)
    segmenter.logits(["the bed"])
    calls = {"vision": 0, "text": 0}
    vision, text = segmenter.model.clip.vision_model.forward, segmenter.model.clip.get_text_features

    def count(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(segmenter.model.clip.vision_model, "forward", count("vision", vision))
    monkeypatch.setattr(segmenter.model.clip, "get_text_features", count("text", text))
    segmenter.set_image(rgb)  # same photo again: no vision pass
    segmenter.logits(["the bed", "a lamp"])  # one new prompt: one text pass
    segmenter.logits(["a lamp"])  # nothing new
    assert calls == {"vision": 0, "text": 1}
    segmenter.set_image(_photo(40, 40, seed=2))  # another photo: one vision pass
    assert calls["vision"] == 1


def test_logits_depend_on_the_image(segmenter):
    segmenter.set_image(_photo(40, 40, seed=1))
    first = segmenter.logits(["the bed"])
    segmenter.set_image(np.ascontiguousarray(_photo(40, 40, seed=1)[::-1]))
    assert not torch.allclose(first, segmenter.logits(["the bed"]))


def test_loaded_once_per_process(clipseg_dir):
    assert load_segmenter(clipseg_dir, "cpu") is load_segmenter(clipseg_dir, "cpu")


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(StylerError, match="segmenter folder not found") as info:
        Segmenter.from_folder(tmp_path / "nothing-here", "cpu")
    assert "nothing-here" in str(info.value) and "\n" not in str(info.value)


def test_folder_without_config_is_one_clear_error(tmp_path):
    with pytest.raises(StylerError, match="no config.json"):
        Segmenter.from_folder(tmp_path, "cpu")


def test_other_model_type_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(StylerError, match="'bert' model, not CLIPSeg"):
        Segmenter.from_folder(tmp_path, "cpu")


def test_damaged_weights_are_one_clear_error(tmp_path):
    folder = write_tiny_clipseg(tmp_path / "broken")
    (folder / "model.safetensors").write_bytes(b"not really safetensors")
    with pytest.raises(StylerError, match="not a usable CLIPSeg folder") as info:
        Segmenter.from_folder(folder, "cpu")
    assert str(folder) in str(info.value) and "\n" not in str(info.value)


def test_missing_tokenizer_is_one_clear_error(tmp_path):
    folder = write_tiny_clipseg(tmp_path / "no-tokenizer")
    for name in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(StylerError, match="incomplete CLIPSeg folder, no tokenizer"):
        Segmenter.from_folder(folder, "cpu")
