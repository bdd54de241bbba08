"""The AdaAttN style network: VGG encoder, attention levels 3/4/5, merge conv, decoder.

Data flow (shapes for an H×W input padded to a multiple of ``STRIDE``):
  relu3_1 (256, H/4)  ─ level 3 ───────────────────────────────┐
  relu4_1 (512, H/8)  ─ level 4 ─┐                              │
  relu5_1 (512, H/16) ─ level 5 ─┴ ×2 up, sum ─ merge conv ─ decoder ─ RGB (3, H)
Any level may be switched off (the seed's module-reduction ablation); the model file
records which exist.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import cast, get_args

import torch
import torch.nn.functional as F
from torch import nn

from engine.attention import (
    POOLED_MAX_POSITIONS,
    RELEASE_MAX_POSITIONS,
    AdaAttN,
    StyleMemory,
    mean_std,
    normalize,
)
from engine.compose import Box
from engine.encoder import FEATURE_CHANNELS, EncoderKind, VGGEncoder
from engine.inference_layers import UpsampledJoin, run_layers
from engine.options import StyleReduction
from engine.strip_encoder import strip_features

ALL_LEVELS = (3, 4, 5)


def level_stride(level: int) -> int:
    """Pixels per position of relu{level}_1: VGG halves the resolution before each block."""
    return 2 ** (level - 1)


def under_window(tensor: torch.Tensor, window: Box, level: int) -> torch.Tensor:
    """The part of a level's (B, C, H/s, W/s) map under a pixel window on the STRIDE grid."""
    top, left, bottom, right = (edge // level_stride(level) for edge in window)
    return tensor[..., top:bottom, left:right]


def key_channels(level: int) -> int:
    """Width of the level's key: relu1_1 … relu{level}_1 concatenated (448, 960, 1472)."""
    return sum(FEATURE_CHANNELS[:level])


def feature_key(
    features: list[torch.Tensor], level: int, memory_format: torch.memory_format = torch.contiguous_format
) -> torch.Tensor:
    """F^{1:x}: Norm of relu1_1 … relu{x}_1, the earlier maps resized to relu{x}_1's size,
    concatenated on channels. features: [relu1_1, …], each (B, C, H, W). The key is laid out
    in ``memory_format``, the one the 1×1 convolutions that read it run in.

    Nearest, not bilinear: the released weights were trained with nearest. Keys carry no
    gradient (the encoder is frozen), so each part is normalised straight into its slice of
    the key: no per-part copies and no separate concatenation."""
    target = features[level - 1].shape[-2:]
    parts = [_nearest(f, target) for f in features[:level]]
    first = parts[0]
    shape = (first.shape[0], sum(p.shape[1] for p in parts), *target)
    key = torch.empty(shape, dtype=first.dtype, device=first.device, memory_format=memory_format)
    start = 0
    for part in parts:
        normalize(part, out=key[:, start : start + part.shape[1]])
        start += part.shape[1]
    return key


def _nearest(feature: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """``F.interpolate(feature, size)`` (nearest). On the encoder's exact halvings that is
    every k-th position, taken as a view: the resize copied whole relu1_1/relu2_1 maps first."""
    (height, width), (rows, cols) = feature.shape[-2:], size
    if height % rows == 0 and width % cols == 0 and height // rows == width // cols:
        step = height // rows
        return feature[..., ::step, ::step]
    return F.interpolate(feature, size=size)


@dataclass(frozen=True)
class StyleNetConfig:
    """Everything needed to rebuild a StyleNet before loading its weights."""

    # Which AdaAttN levels exist. 4 or 5 must be present: they feed the decoder's input.
    levels: tuple[int, ...] = ALL_LEVELS
    # Encoder weight family, see engine.encoder.
    encoder: EncoderKind = "vgg_normalised"

    def __post_init__(self) -> None:
        # Exact types: a model header is untrusted input (3.0 == 3, yet "attn.3.0" is no layer).
        if any(type(level) is not int for level in self.levels):
            raise ValueError(f"levels must be whole numbers from {ALL_LEVELS}, got {self.levels}")
        levels = tuple(sorted(set(self.levels)))
        if not levels or any(level not in ALL_LEVELS for level in levels):
            raise ValueError(f"levels must be a subset of {ALL_LEVELS}, got {self.levels}")
        if self.encoder not in get_args(EncoderKind):
            raise ValueError(f"encoder must be one of {', '.join(get_args(EncoderKind))}, got {self.encoder!r}")
        if 4 not in levels and 5 not in levels:
            raise ValueError("levels must include 4 or 5: they produce the decoder's input")
        object.__setattr__(self, "levels", levels)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StyleNetConfig:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("levels"), list):
            raise ValueError("config must be an object with a list of levels")
        return cls(levels=tuple(data["levels"]), encoder=data["encoder"])


def _conv3x3(in_ch: int, out_ch: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d(1), nn.Conv2d(in_ch, out_ch, 3)]


class Decoder(nn.Module):
    """Mirror of VGG from relu4_1 down to RGB. Module indices follow the release's so its
    weights load by a plain prefix rename."""

    def __init__(self, level3_skip: bool = True) -> None:
        super().__init__()
        self.level3_skip = level3_skip
        self.head = nn.Sequential(*_conv3x3(512, 256), nn.ReLU(inplace=True), nn.Upsample(scale_factor=2))
        body: list[nn.Module] = []
        widths = [(512 if level3_skip else 256, 256), (256, 256), (256, 256), (256, 128)]
        for in_ch, out_ch in widths:
            body += [*_conv3x3(in_ch, out_ch), nn.ReLU(inplace=True)]
        body.append(nn.Upsample(scale_factor=2))
        body += [*_conv3x3(128, 128), nn.ReLU(inplace=True), *_conv3x3(128, 64), nn.ReLU(inplace=True)]
        body.append(nn.Upsample(scale_factor=2))
        body += [*_conv3x3(64, 64), nn.ReLU(inplace=True), *_conv3x3(64, 3)]
        self.body = nn.Sequential(*body)

    def forward(self, deep: torch.Tensor, level3: torch.Tensor | None) -> torch.Tensor:
        """deep (B, 512, H/8, W/8), level3 (B, 256, H/4, W/4) -> (B, 3, H, W), not clamped."""
        head = list(self.head)
        if self.level3_skip:
            assert level3 is not None, "a decoder with the relu3_1 skip needs level3"
            head[-1] = UpsampledJoin(level3)  # the head's ×2 upsampling, joined with relu3_1
        return run_layers(head + list(self.body), deep)[0]


@dataclass
class Features:
    """Encoder output an image needs for stylisation: per level, the feature and its key."""

    feature: dict[int, torch.Tensor] = field(default_factory=dict)  # level -> F^x
    key: dict[int, torch.Tensor] = field(default_factory=dict)  # level -> Norm'd F^{1:x}


class StyleNet(nn.Module):
    def __init__(self, config: StyleNetConfig = StyleNetConfig()) -> None:
        super().__init__()
        self.config = config
        self.encoder = VGGEncoder(config.encoder)
        self.attn = nn.ModuleDict(
            {str(lv): AdaAttN(FEATURE_CHANNELS[lv - 1], key_channels(lv)) for lv in config.levels}
        )
        self.merge_conv = nn.Sequential(*_conv3x3(512, 512))
        self.decoder = Decoder(level3_skip=3 in config.levels)

    @property
    def levels(self) -> tuple[int, ...]:
        return self.config.levels

    def _attention(self, level: int) -> AdaAttN:
        return cast(AdaAttN, self.attn[str(level)])  # ModuleDict items are typed as plain Modules

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if not name.startswith("encoder.")]

    def features(
        self,
        image: torch.Tensor,
        in_strips: bool = False,
        key_format: torch.memory_format = torch.contiguous_format,
    ) -> Features:
        """image (B, 3, H, W) in [0, 1], H and W multiples of STRIDE -> per-level features and
        keys (laid out in ``key_format``). Full-resolution shallow maps are dropped as soon as their resized copies exist;
        ``in_strips`` never holds them whole (engine/strip_encoder.py: for photos past one
        GPU pass, and for the low-memory path)."""
        depth = max(self.levels)
        feats = strip_features(self.encoder, image, depth) if in_strips else self.encoder(image, depth=depth)
        out = Features()
        for level in self.levels:
            out.key[level] = feature_key(feats, level, key_format)
            out.feature[level] = feats[level - 1]
        return out

    def style_memories(
        self, style: Features, reduction: StyleReduction = "exact", seed: int | None = None
    ) -> dict[int, StyleMemory]:
        """Per level, the style's K and [V, V⊙V]; ``reduction`` see engine.attention."""
        limits = RELEASE_MAX_POSITIONS if reduction == "release" else POOLED_MAX_POSITIONS
        return {
            level: self._attention(level).style_memory(
                style.feature[level], style.key[level], reduction, limits[level], seed
            )
            for level in self.levels
        }

    def attend(
        self,
        content: Features,
        memories: dict[int, StyleMemory],
        level: int,
        chunk_size: int | None = None,
        window: Box | None = None,
    ) -> torch.Tensor:
        """AdaAttN at ``level``; with ``window`` (pixels on the STRIDE grid of the padded
        input) only the positions under it, normalised with the whole map's statistics, so
        each equals the whole-map result there (a crop would be normalised differently)."""
        feature, key = content.feature[level], content.key[level]
        if window is None:
            return self._attention(level)(feature, key, memories[level], chunk_size)
        whole_stats = mean_std(feature.float())
        part, part_key = under_window(feature, window, level), under_window(key, window, level)
        return self._attention(level)(part, part_key, memories[level], chunk_size, whole_stats)

    def merge(self, attended: dict[int, torch.Tensor]) -> torch.Tensor:
        """Levels 4 and 5 (either may be absent) -> the decoder's deep input at H/8."""
        deep = attended.get(4)
        if 5 in self.levels:
            up = F.interpolate(attended[5], scale_factor=2.0, mode="nearest")
            deep = up if deep is None else deep + up
        return self.merge_conv(deep)

    def decode(self, attended: dict[int, torch.Tensor]) -> torch.Tensor:
        return self.decoder(self.merge(attended), attended.get(3))

    def forward(
        self, content: torch.Tensor, style: torch.Tensor, chunk_size: int | None = None
    ) -> torch.Tensor:
        """Differentiable end-to-end pass (training): content, style (B, 3, H, W) -> (B, 3, H, W)."""
        content_feats = self.features(content)
        memories = self.style_memories(self.features(style))
        attended = {lv: self.attend(content_feats, memories, lv, chunk_size) for lv in self.levels}
        return self.decode(attended)
