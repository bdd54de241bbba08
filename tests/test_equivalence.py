"""The imported release must give the authors' pixels: compare against a straightforward,
matrix-materialising implementation of the formulas (tests/reference_adaattn.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.cli import main as cli_main
from engine.stylizer import Stylizer
from tests import reference_adaattn as reference


def _as_hwc(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize(
    "content_hw, style_hw",
    [((64, 96), (72, 88)), ((128, 128), (96, 112)), ((48, 32), (40, 40))],
)
def test_imported_release_matches_reference(tmp_path, release_dir, release_state, content_hw, style_hw):
    out = tmp_path / "model.safetensors"
    assert cli_main(["models", "import-adaattn", str(release_dir), "-o", str(out)]) == 0

    gen = torch.Generator().manual_seed(sum(content_hw))
    content = torch.rand(1, 3, *content_hw, generator=gen)
    style = torch.rand(1, 3, *style_hw, generator=gen)
    weights64 = {name: {k: v.double() for k, v in part.items()} for name, part in release_state.items()}
    with torch.no_grad():
        truth = reference.stylize(content.double(), style.double(), weights64).float()
        authors_fp32 = reference.stylize(content, style, release_state)

    stylizer = Stylizer.from_file(out, device="cpu", style_size=None)
    stylizer.set_style(_as_hwc(style))
    stylizer.set_content(_as_hwc(content))
    ours = stylizer.render()

    expected = _as_hwc(truth.clamp(0, 1))
    # Ours is at least as close to the exact result as float32 code that materialises A.
    our_error = np.abs(ours - expected).max()
    authors_error = np.abs(_as_hwc(authors_fp32.clamp(0, 1)) - expected).max()
    assert our_error < 2e-5 or our_error <= authors_error
    assert our_error < 1e-4
    # Pixels written to disk differ from the exact result's by at most one 8-bit level.
    ours_u8 = (ours * 255 + 0.5).astype(np.int16)
    expected_u8 = (expected * 255 + 0.5).astype(np.int16)
    assert np.abs(ours_u8 - expected_u8).max() <= 1
    assert expected.std() > 0.05  # the comparison is not between two flat images


def test_subsampling_matches_release_rule(release_dir, release_state, model_path):
    """With subsampling on, the random subset of style positions is the release's."""
    gen = torch.Generator().manual_seed(3)
    _ = torch.rand(1, 3, 64, 64, generator=gen)  # a content draw, so the style is the same draw as the release's
    style = torch.rand(1, 3, 300, 280, generator=gen)  # level 3 has 75×70 > 64·64 positions
    stylizer = Stylizer.from_file(model_path, style_size=None, subsample_style=True, seed=6666)
    stylizer.set_style(_as_hwc(style))
    memory = stylizer._memories[next(iter(stylizer._memories))][3]
    assert memory.keys.shape[1] == 64 * 64
    index = torch.randperm(75 * 70, generator=torch.Generator().manual_seed(6666))[: 64 * 64]
    style_features = reference.encode(style, release_state["vgg"])
    raw_keys = reference.key(style_features, 2)
    p = release_state["adaattn_3"]
    style_keys = torch.nn.functional.conv2d(raw_keys, p["g.weight"], p["g.bias"]).flatten(2)[0].T[index]
    # Styler's keys carry f (AdaAttN.logit_keys): compare logits, which may differ from the
    # release's only by a constant per query (it cancels in the softmax).
    content_key = torch.randn(5, raw_keys.shape[1], generator=gen)
    query = torch.nn.functional.linear(content_key, p["f.weight"][:, :, 0, 0], p["f.bias"])
    release_logits = query @ style_keys.T
    ours = torch.zeros(5, memory.keys.shape[-1])
    ours[:, : content_key.shape[1]], ours[:, content_key.shape[1]] = content_key, 1
    offset = ours @ memory.keys[0].T - release_logits
    # The encoder's rounding (Winograd, layouts) moves logits by ~5e-4 of their spread; a
    # wrong subset moves them by about the spread itself.
    spread = release_logits.std()
    assert spread > 1
    assert (offset - offset.mean(dim=1, keepdim=True)).abs().max() < 2e-3 * spread


def test_default_gives_the_authors_pixels_where_they_subsample(model_path, release_state):
    """Past 64·64 style positions at relu3_1 the authors' program attends to a random subset
    drawn with their seed; Styler's default draws the same one, so out of the box it gives
    their program's pixels (bench/authors_adaattn.py models it) at every size."""
    from bench.authors_adaattn import AuthorsAdaAttN

    gen = torch.Generator().manual_seed(11)
    content = torch.rand(1, 3, 64, 80, generator=gen)
    style = torch.rand(1, 3, 264, 264, generator=gen)  # 66 × 66 > 64 · 64 positions at relu3_1
    with torch.no_grad(), torch.random.fork_rng():  # their code reseeds torch's global generator
        theirs = _as_hwc(AuthorsAdaAttN(release_state)(content, style).clamp(0, 1))
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=None)
    stylizer.set_style(_as_hwc(style))
    stylizer.set_content(_as_hwc(content))
    ours = stylizer.render()
    assert np.abs(ours - theirs).max() < 1e-4
    # ... and not by chance: another subset moves pixels by far more at this size.
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=None, seed=1)
    stylizer.set_style(_as_hwc(style))
    stylizer.set_content(_as_hwc(content))
    assert np.abs(stylizer.render() - theirs).max() > 1e-2
