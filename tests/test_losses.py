"""Loss terms against values worked out by hand on tiny tensors, and the local-loss target
against the matrix-materialising reference with identity f, g, h (= parameter-free)."""

from __future__ import annotations

import math

import pytest
import torch

from engine.network import StyleNet, StyleNetConfig, feature_key
from engine.train import losses
from engine.train.losses import LossWeights
from engine.train.objective import StyleObjective
from tests import reference_adaattn as ref
from tests.test_train import single_thread  # noqa: F401 (autouse fixture)

EPS = 1e-5


def _layers(fill: torch.Tensor) -> list[torch.Tensor]:
    """Five 'VGG layers' that all hold the same (1, 1, 2, 2) map."""
    return [fill.clone() for _ in range(5)]


def test_global_style_loss_by_hand() -> None:
    out = _layers(torch.tensor([0.0, 1.0, 2.0, 3.0]).view(1, 1, 2, 2))
    style = _layers(torch.zeros(1, 1, 2, 2))
    # mean 1.5 vs 0; std sqrt(var_unbiased + eps) = sqrt(5/3 + eps) vs sqrt(eps)
    per_layer = 1.5**2 + (math.sqrt(5 / 3 + EPS) - math.sqrt(EPS)) ** 2
    # relu1_1 is not a loss layer (release recipe): four layers count.
    assert losses.global_style_loss(out, style).item() == pytest.approx(4 * per_layer, rel=1e-6)


def test_skewness_by_hand() -> None:
    # Bernoulli(1/4) sample: skewness (1 − 2p) / sqrt(p(1 − p)) = 2/√3.
    x = torch.tensor([0.0, 0.0, 0.0, 3.0]).view(1, 1, 2, 2)
    assert losses.skewness(x).item() == pytest.approx(2 / math.sqrt(3), rel=1e-4)
    symmetric = torch.tensor([-1.0, 0.0, 0.0, 1.0]).view(1, 1, 2, 2)
    assert losses.skewness(symmetric).item() == pytest.approx(0.0, abs=1e-7)
    mirrored = -x
    assert losses.skewness(mirrored).item() == pytest.approx(-2 / math.sqrt(3), rel=1e-4)


def test_skew_loss_by_hand() -> None:
    out = _layers(torch.tensor([0.0, 0.0, 0.0, 3.0]).view(1, 1, 2, 2))
    style = _layers(torch.tensor([-1.0, 0.0, 0.0, 1.0]).view(1, 1, 2, 2))
    assert losses.skew_loss(out, style).item() == pytest.approx(4 * 4 / 3, rel=1e-4)


def test_content_loss_ignores_channel_scale_and_shift() -> None:
    content = [torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(i)) for i in range(5)]
    out = [2.0 * f + 3.0 for f in content]
    assert losses.content_loss(out, content).item() == pytest.approx(0.0, abs=1e-8)
    flipped = [-f for f in content]  # Norm(−x) = −Norm(x): MSE = mean (2·Norm(x))² ≈ 4·(n−1)/n
    assert losses.content_loss(flipped, content).item() == pytest.approx(4 * 4 * 15 / 16, rel=1e-3)


def test_local_target_of_a_flat_style_is_the_style_value() -> None:
    # Every style position identical: attention is uniform, M = v and S = 0, whatever the content.
    gen = torch.Generator().manual_seed(0)
    channels = (64, 128, 256, 512, 512)
    sizes = (16, 8, 4, 2, 1)
    content = [torch.rand(1, c, s * 2, s * 2, generator=gen) for c, s in zip(channels, sizes, strict=True)]
    style = [torch.full((1, c, s * 2, s * 2), 0.5) for c, s in zip(channels, sizes, strict=True)]
    ck = {lv: feature_key(content, lv) for lv in losses.LOSS_LAYERS}
    sk = {lv: feature_key(style, lv) for lv in losses.LOSS_LAYERS}
    targets = losses.local_targets(content, style, ck, sk)
    for level in losses.LOSS_LAYERS:
        assert torch.allclose(targets[level], torch.full_like(targets[level], 0.5), atol=1e-5)
    shifted = [f + 1.0 for f in style]  # E(I_cs) off by one everywhere: MSE 1 per layer
    assert losses.local_feature_loss(shifted, targets).item() == pytest.approx(4.0, rel=1e-5)


def test_local_target_matches_parameter_free_reference() -> None:
    gen = torch.Generator().manual_seed(1)
    channels = (64, 128, 256, 512, 512)
    content = [torch.rand(1, c, 32 >> i, 32 >> i, generator=gen) for i, c in enumerate(channels)]
    style = [torch.rand(1, c, 48 >> i, 48 >> i, generator=gen) for i, c in enumerate(channels)]
    ck = {lv: feature_key(content, lv) for lv in losses.LOSS_LAYERS}
    sk = {lv: feature_key(style, lv) for lv in losses.LOSS_LAYERS}
    targets = losses.local_targets(content, style, ck, sk)
    for level in losses.LOSS_LAYERS:
        k_ch, v_ch = ck[level].shape[1], channels[level - 1]
        identity = {
            "f.weight": torch.eye(k_ch)[..., None, None], "f.bias": torch.zeros(k_ch),
            "g.weight": torch.eye(k_ch)[..., None, None], "g.bias": torch.zeros(k_ch),
            "h.weight": torch.eye(v_ch)[..., None, None], "h.bias": torch.zeros(v_ch),
        }
        expected = ref.adaattn(
            identity, "", content[level - 1], style[level - 1], ref.key(content, level - 1), ref.key(style, level - 1)
        )
        # S = sqrt(E[V²] − M²) amplifies float32 rounding where the variance is near zero
        # (unscaled logits make the attention very peaked); a wrong formula is off by ~0.1.
        torch.testing.assert_close(targets[level], expected, rtol=1e-3, atol=2e-3)


def test_objective_total_is_the_weighted_sum() -> None:
    torch.manual_seed(0)
    net = StyleNet(StyleNetConfig(levels=(4, 5)))
    weights = LossWeights(global_style=10.0, local_feature=3.0, skew=0.5, content=0.25)
    objective = StyleObjective(net, weights)
    gen = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, 32, 32, generator=gen), torch.rand(1, 3, 32, 32, generator=gen)
    stylized, terms = objective(content, style)
    assert stylized.shape == content.shape
    expected = 10 * terms["global"] + 3 * terms["local"] + 0.5 * terms["skew"] + 0.25 * terms["content"]
    assert terms["loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    terms["loss"].backward()
    assert all(p.grad is not None for p in net.trainable_parameters())
    assert all(p.grad is None for p in net.encoder.parameters())
