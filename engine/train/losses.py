"""Training losses of AdaAttN (Liu et al. 2021) as released, plus the seed's skewness term.

All terms compare VGG features relu2_1 … relu5_1 (``LOSS_LAYERS``). The seed's Eq. 9–10
sum over layers 1..5, but the released recipe, whose weights Styler ships, starts at
relu2_1; we follow the release. Every term is a sum over layers of a mean squared error,
computed in float32 whatever the autocast precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.attention import adaptive_normalize, make_style_memory, mean_std, normalize

LOSS_LAYERS = (2, 3, 4, 5)  # relu2_1 … relu5_1, 1-based like the paper's x
# The release subsamples style positions for the local-loss target above 64·64.
TARGET_MAX_POSITIONS = 64 * 64
SKEW_EPS = 1e-5


@dataclass(frozen=True)
class LossWeights:
    """λ per term. Defaults are the released recipe; the seed paper used global = local = 1."""

    global_style: float = 10.0
    local_feature: float = 3.0
    skew: float = 0.0
    content: float = 0.0


def global_style_loss(stylized: list[torch.Tensor], style: list[torch.Tensor]) -> torch.Tensor:
    """Σ_layers MSE(μ(E(I_cs)), μ(F_s)) + MSE(σ(E(I_cs)), σ(F_s)), channel statistics per sample."""
    total = stylized[0].new_zeros((), dtype=torch.float32)
    for level in LOSS_LAYERS:
        out_mean, out_std = mean_std(stylized[level - 1].float())
        style_mean, style_std = mean_std(style[level - 1].float())
        total = total + F.mse_loss(out_mean, style_mean) + F.mse_loss(out_std, style_std)
    return total


@torch.no_grad()
def local_targets(
    content: list[torch.Tensor],
    style: list[torch.Tensor],
    content_keys: dict[int, torch.Tensor],
    style_keys: dict[int, torch.Tensor],
    max_positions: int | None = TARGET_MAX_POSITIONS,
    seed: int = 0,
) -> dict[int, torch.Tensor]:
    """The parameter-free AdaAttN* of Eq. 10 per layer: Q, K = the raw keys F^{1:x}, V = F_s^x."""
    targets = {}
    for level in LOSS_LAYERS:
        keys = style_keys[level].flatten(2).transpose(1, 2)  # (B, N_s, D_k)
        values = style[level - 1].flatten(2).transpose(1, 2)  # (B, N_s, C)
        memory = make_style_memory(keys, values, max_positions, seed)
        query = content_keys[level].flatten(2).transpose(1, 2)  # (B, N_c, D_k)
        targets[level] = adaptive_normalize(content[level - 1], query, memory).float()
    return targets


def local_feature_loss(stylized: list[torch.Tensor], targets: dict[int, torch.Tensor]) -> torch.Tensor:
    """Σ_layers MSE(E(I_cs), AdaAttN*(…))."""
    total = stylized[0].new_zeros((), dtype=torch.float32)
    for level in LOSS_LAYERS:
        total = total + F.mse_loss(stylized[level - 1].float(), targets[level])
    return total


def skewness(x: torch.Tensor, eps: float = SKEW_EPS) -> torch.Tensor:
    """Third standardised moment of each channel's distribution over positions:
    E[(x − μ)³] / σ³ with population moments (the textbook definition). x (B, C, H, W) -> (B, C)."""
    flat = x.float().flatten(2)
    centred = flat - flat.mean(dim=2, keepdim=True)
    variance = centred.pow(2).mean(dim=2)
    return centred.pow(3).mean(dim=2) / (variance + eps).pow(1.5)


def skew_loss(stylized: list[torch.Tensor], style: list[torch.Tensor]) -> torch.Tensor:
    """The seed's 4.2.3: Σ_layers MSE(skew(E(I_cs)), skew(F_s)); matches what μ and σ cannot."""
    total = stylized[0].new_zeros((), dtype=torch.float32)
    for level in LOSS_LAYERS:
        total = total + F.mse_loss(skewness(stylized[level - 1]), skewness(style[level - 1]))
    return total


def content_loss(stylized: list[torch.Tensor], content: list[torch.Tensor]) -> torch.Tensor:
    """The release's optional term: Σ_layers MSE(Norm(E(I_cs)), Norm(F_c))."""
    total = stylized[0].new_zeros((), dtype=torch.float32)
    for level in LOSS_LAYERS:
        total = total + F.mse_loss(normalize(stylized[level - 1].float()), normalize(content[level - 1].float()))
    return total
