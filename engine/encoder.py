"""Frozen VGG-19 encoder that returns relu1_1 … relu5_1.

Two weight families exist and they differ in more than weights:
- ``vgg_normalised`` (AdaIN's release, used by AdaAttN): a 1×1 input conv that maps RGB in
  [0, 1] to the caffe-style input, reflection padding before every 3×3 conv and
  ``ceil_mode`` max-pools. Its sequential indices must match the released file.
- ``torchvision``: ImageNet VGG-19 from torchvision, zero padding, floor pools and an
  ImageNet mean/std normalisation in front. Its indices match ``vgg19().features``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from engine.inference_layers import MaxPool2x2, run_layers

EncoderKind = Literal["vgg_normalised", "torchvision"]
ENCODER_KINDS: tuple[str, ...] = ("vgg_normalised", "torchvision")

# (channels, number of 3×3 convs) per VGG-19 block; block 5 stops at its first conv
# because relu5_1 is the deepest feature AdaAttN uses.
_VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 1))
FEATURE_NAMES = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
FEATURE_CHANNELS = (64, 128, 256, 512, 512)
# Total downsampling between the input and relu5_1; inputs padded to a multiple of it
# give exact halvings at every pool (and the ×2 upsamplings in the decoder line up).
STRIDE = 16

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _build_layers(kind: EncoderKind) -> tuple[nn.Sequential, tuple[int, ...]]:
    """The layer stack and, for each relu?_1 feature, the index just past its ReLU."""
    reflect = kind == "vgg_normalised"
    layers: list[nn.Module] = []
    taps: list[int] = []
    in_ch = 3
    if reflect:
        layers.append(nn.Conv2d(3, 3, kernel_size=1))
    for block, (out_ch, n_convs) in enumerate(_VGG19_BLOCKS):
        if block > 0:
            layers.append(MaxPool2x2(ceil_mode=reflect))
        for conv in range(n_convs):
            if reflect:
                layers += [nn.ReflectionPad2d(1), nn.Conv2d(in_ch, out_ch, 3)]
            else:
                layers.append(nn.Conv2d(in_ch, out_ch, 3, padding=1))
            # In place: a conv output has no other reader, and a copy per layer costs memory.
            layers.append(nn.ReLU(inplace=True))
            in_ch = out_ch
            if conv == 0:
                taps.append(len(layers))
            if block == len(_VGG19_BLOCKS) - 1:
                break
    return nn.Sequential(*layers), tuple(taps)


class VGGEncoder(nn.Module):
    """VGG-19 up to relu5_1; frozen (no gradients to its weights, always in eval mode)."""

    def __init__(self, kind: EncoderKind = "vgg_normalised") -> None:
        super().__init__()
        if kind not in ENCODER_KINDS:
            raise ValueError(f"unknown encoder kind {kind!r}; expected one of {ENCODER_KINDS}")
        self.kind = kind
        self.layers, self._taps = _build_layers(kind)
        normalise = kind == "torchvision"
        # On the CPU even when the layers are built on the meta device (``load_model``): these
        # constants are not in a model file.
        mean = torch.tensor(_IMAGENET_MEAN if normalise else (0.0, 0.0, 0.0), device="cpu").view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD if normalise else (1.0, 1.0, 1.0), device="cpu").view(1, 3, 1, 1)
        # Non-persistent: they follow .to(device) but are not weights to save or load.
        self.input_mean: torch.Tensor
        self.input_std: torch.Tensor
        self.register_buffer("input_mean", mean, persistent=False)
        self.register_buffer("input_std", std, persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGGEncoder:
        # The encoder is a fixed feature extractor; it has no train-mode behaviour to enable.
        return super().train(False)

    def forward(self, image: torch.Tensor, depth: int = 5) -> list[torch.Tensor]:
        """image (B, 3, H, W) RGB in [0, 1] -> [relu1_1, …] (the first ``depth`` features)."""
        return self.continue_features([], (image - self.input_mean) / self.input_std, depth)

    def continue_features(self, features: list[torch.Tensor], x: torch.Tensor, depth: int) -> list[torch.Tensor]:
        """``features`` (relu1_1 … relu{k}_1, possibly empty) extended to ``depth`` features,
        starting from ``x``: relu{k}_1 itself, or the normalised image when k is 0."""
        start = self._taps[len(features) - 1] if features else 0
        taps = [end - start for end in self._taps[len(features) : depth]]
        _, tapped = run_layers(list(self.layers)[start : start + taps[-1]], x, taps)
        return list(features) + tapped


def encoder_state_from_release(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys of ``vgg_normalised.pth`` (``I.weight``) -> ours (``layers.I.weight``).

    Layers past relu5_1 are in the file but unused, so they are dropped."""
    reference = VGGEncoder("vgg_normalised").state_dict()
    return _select(state, reference, prefix="", what="vgg_normalised.pth")


def encoder_state_from_torchvision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys of torchvision's VGG-19 (``features.I.weight``) -> ours; classifier dropped."""
    reference = VGGEncoder("torchvision").state_dict()
    return _select(state, reference, prefix="features.", what="torchvision VGG-19 weights")


def _select(
    state: dict[str, torch.Tensor], reference: dict[str, torch.Tensor], prefix: str, what: str
) -> dict[str, torch.Tensor]:
    from engine.errors import StylerError

    out: dict[str, torch.Tensor] = {}
    for key, expected in reference.items():
        source_key = prefix + key.removeprefix("layers.")
        tensor = state.get(source_key)
        if tensor is None:
            raise StylerError(f"{what}: missing tensor {source_key!r}; is this the right file?")
        if tuple(tensor.shape) != tuple(expected.shape):
            raise StylerError(
                f"{what}: tensor {source_key!r} has shape {tuple(tensor.shape)}, "
                f"expected {tuple(expected.shape)}"
            )
        out[key] = tensor.float()
    return out
