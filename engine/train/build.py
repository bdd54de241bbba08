"""The network a run starts from: a Styler model to fine-tune, or fresh layers on a given
encoder. Fresh layers are initialised from the run's seed, so from-scratch runs repeat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.checkpoint import load_model, load_pth_state
from engine.encoder import EncoderKind, encoder_state_from_release, encoder_state_from_torchvision
from engine.errors import StylerError
from engine.network import ALL_LEVELS, StyleNet, StyleNetConfig
from engine.train.config import TrainConfig


def build_model(config: TrainConfig) -> tuple[StyleNet, dict[str, Any]]:
    """-> (network on the CPU, provenance to record in the saved model)."""
    if config.init:
        return _from_init(Path(config.init), config)
    assert config.encoder is not None  # TrainConfig refuses neither
    return _from_encoder(Path(config.encoder), config)


def _levels(config: TrainConfig, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(config.levels) if config.levels else default


def _make_net(levels: tuple[int, ...], encoder: EncoderKind, seed: int) -> StyleNet:
    try:
        net_config = StyleNetConfig(levels=levels, encoder=encoder)
    except ValueError as exc:
        raise StylerError(f"--levels: {exc}") from None
    # Layer constructors draw from the global generator; fork it so seeding here leaves the
    # caller's random state alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return StyleNet(net_config)


def _from_init(path: Path, config: TrainConfig) -> tuple[StyleNet, dict[str, Any]]:
    source, info = load_model(path)
    levels = _levels(config, source.levels)
    net = _make_net(levels, source.config.encoder, config.seed)
    # Every tensor whose name and shape match is taken over; a level the source lacks (or a
    # decoder input that changes width when level 3 is dropped) starts fresh.
    own = net.state_dict()
    source_state = source.state_dict()
    taken = {k: v for k, v in source_state.items() if k in own and v.shape == own[k].shape}
    net.load_state_dict(taken, strict=False)
    fresh = sorted({k.rsplit(".", 2)[0] for k in own if k not in taken})
    provenance = {"init": str(path), "init_provenance": info.provenance, "fresh_layers": fresh}
    return net, provenance


def _from_encoder(path: Path, config: TrainConfig) -> tuple[StyleNet, dict[str, Any]]:
    kind, state = read_encoder(path)
    net = _make_net(_levels(config, ALL_LEVELS), kind, config.seed)
    net.encoder.load_state_dict(state)
    return net, {"encoder": str(path), "encoder_kind": kind}


def read_encoder(path: Path) -> tuple[EncoderKind, dict[str, torch.Tensor]]:
    """vgg_normalised.pth, torchvision's vgg19 .pth, or a Styler model (its encoder) ->
    (kind, VGGEncoder state dict)."""
    if not path.is_file():
        raise StylerError(f"{path}: encoder file not found")
    if path.suffix == ".safetensors":
        net, _ = load_model(path)
        return net.config.encoder, net.encoder.state_dict()
    state = load_pth_state(path)
    if "features.0.weight" in state:
        return "torchvision", encoder_state_from_torchvision(state)
    if "0.weight" in state:
        return "vgg_normalised", encoder_state_from_release(state)
    raise StylerError(
        f"{path}: not a VGG-19 encoder this version knows (expected vgg_normalised.pth, torchvision's "
        "vgg19 weights, or a Styler .safetensors model)"
    )

