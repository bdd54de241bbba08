"""One training forward pass: stylise a batch and score it. An ``nn.Module`` so that
DistributedDataParallel can wrap it (DDP synchronises gradients of a module's forward)."""

from __future__ import annotations

import torch
from torch import nn

from engine.network import Features, StyleNet, feature_key
from engine.train.losses import (
    LOSS_LAYERS,
    TARGET_MAX_POSITIONS,
    LossWeights,
    content_loss,
    global_style_loss,
    local_feature_loss,
    local_targets,
    skew_loss,
)

LOSS_TERMS = ("global", "local", "skew", "content")


class StyleObjective(nn.Module):
    """Wraps a StyleNet; ``forward(content, style)`` returns the stylised batch and the loss
    terms: ``loss`` (the weighted total, to backpropagate) and each unweighted term."""

    def __init__(
        self,
        net: StyleNet,
        weights: LossWeights,
        target_max_positions: int | None = TARGET_MAX_POSITIONS,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.net = net
        self.weights = weights
        self.target_max_positions = target_max_positions
        self.seed = seed

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        net = self.net
        # The encoder is frozen and the inputs need no gradient: one pass each, shared by
        # the network's keys and the loss targets.
        with torch.no_grad():
            # Features leave the (possibly bf16) encoder as float32: keys feed unscaled QKᵀ
            # logits, where bf16 rounding visibly moves the attention.
            content_feats = [f.float() for f in net.encoder(content, depth=5)]
            style_feats = [f.float() for f in net.encoder(style, depth=5)]
            needed = sorted(set(LOSS_LAYERS) | set(net.levels))
            content_keys = {lv: feature_key(content_feats, lv) for lv in needed}
            style_keys = {lv: feature_key(style_feats, lv) for lv in needed}
        content_in = Features({lv: content_feats[lv - 1] for lv in net.levels}, {lv: content_keys[lv] for lv in net.levels})
        style_in = Features({lv: style_feats[lv - 1] for lv in net.levels}, {lv: style_keys[lv] for lv in net.levels})
        memories = net.style_memories(style_in)
        stylized = net.decode({lv: net.attend(content_in, memories, lv) for lv in net.levels})
        out_feats = net.encoder(stylized, depth=5)

        # Every term is computed, weighted or not, so that runs with a zero weight (the
        # seed's λ sweep) still log comparable curves; a zero-weight term adds no gradient.
        with torch.autocast(stylized.device.type, enabled=False):  # the target in full precision
            targets = local_targets(
                content_feats, style_feats, content_keys, style_keys, self.target_max_positions, self.seed
            )
        terms = {
            "global": global_style_loss(out_feats, style_feats),
            "local": local_feature_loss(out_feats, targets),
            "skew": skew_loss(out_feats, style_feats),
            "content": content_loss(out_feats, content_feats),
        }
        w = self.weights
        weighted = [
            (w.global_style, terms["global"]),
            (w.local_feature, terms["local"]),
            (w.skew, terms["skew"]),
            (w.content, terms["content"]),
        ]
        total = stylized.new_zeros((), dtype=torch.float32)
        for weight, term in weighted:
            if weight:
                total = total + weight * term
        terms["loss"] = total
        return stylized, terms
