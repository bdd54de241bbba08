"""Random weights in the exact file layout of the AdaAttN release (see the reference doc)."""

from __future__ import annotations

from pathlib import Path

import torch

VGG_CONVS = {  # sequential index -> (in, out, kernel)
    0: (3, 3, 1), 2: (3, 64, 3), 5: (64, 64, 3), 9: (64, 128, 3), 12: (128, 128, 3),
    16: (128, 256, 3), 19: (256, 256, 3), 22: (256, 256, 3), 25: (256, 256, 3),
    29: (256, 512, 3), 32: (512, 512, 3), 35: (512, 512, 3), 38: (512, 512, 3),
    42: (512, 512, 3), 45: (512, 512, 3), 48: (512, 512, 3), 51: (512, 512, 3),
}
DECODER_2 = {1: (512, 256), 4: (256, 256), 7: (256, 256), 10: (256, 128), 14: (128, 128),
             17: (128, 64), 21: (64, 64), 24: (64, 3)}


def _conv(gen: torch.Generator, prefix: str, cin: int, cout: int, k: int, gain: float = 2.0) -> dict:
    std = (gain / (cin * k * k)) ** 0.5
    return {
        f"{prefix}weight": torch.randn(cout, cin, k, k, generator=gen) * std,
        f"{prefix}bias": torch.randn(cout, generator=gen) * 0.01,
    }


def _adaattn(gen: torch.Generator, prefix: str, value_ch: int, key_ch: int) -> dict:
    state = {}
    state.update(_conv(gen, f"{prefix}f.", key_ch, key_ch, 1, gain=1.0))
    state.update(_conv(gen, f"{prefix}g.", key_ch, key_ch, 1, gain=1.0))
    state.update(_conv(gen, f"{prefix}h.", value_ch, value_ch, 1, gain=1.0))
    return state


def make_release_state(seed: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    """{'vgg', 'adaattn_3', 'transformer', 'decoder'} -> state dict, as the authors save them."""
    gen = torch.Generator().manual_seed(seed)
    vgg: dict[str, torch.Tensor] = {}
    for index, (cin, cout, k) in VGG_CONVS.items():
        vgg.update(_conv(gen, f"{index}.", cin, cout, k))
    # The real 1×1 input conv maps [0, 1] RGB to caffe-style BGR in 0..255 minus the mean.
    vgg["0.weight"] = torch.eye(3).flip(0)[..., None, None] * 255.0
    vgg["0.bias"] = torch.tensor([-103.9, -116.8, -123.7])
    transformer = {}
    transformer.update(_adaattn(gen, "attn_adain_4_1.", 512, 960))
    transformer.update(_adaattn(gen, "attn_adain_5_1.", 512, 1472))
    transformer.update(_conv(gen, "merge_conv.", 512, 512, 3))
    decoder = _conv(gen, "decoder_layer_1.1.", 512, 256, 3)
    for index, (cin, cout) in DECODER_2.items():
        decoder.update(_conv(gen, f"decoder_layer_2.{index}.", cin, cout, 3))
    # Put the untrained decoder's output near mid-grey so pixels are not all clipped.
    decoder["decoder_layer_2.24.weight"] *= 5e-4
    decoder["decoder_layer_2.24.bias"] = torch.full((3,), 0.5)
    return {
        "vgg": vgg,
        "adaattn_3": _adaattn(gen, "", 256, 448),
        "transformer": transformer,
        "decoder": decoder,
    }


def write_release(folder: Path, seed: int = 0, encoder_in_parent: bool = False) -> dict:
    """Save the four files under their released names; returns the state dicts."""
    state = make_release_state(seed)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state["decoder"], folder / "latest_net_decoder.pth")
    torch.save(state["transformer"], folder / "latest_net_transformer.pth")
    torch.save(state["adaattn_3"], folder / "latest_net_adaattn_3.pth")
    vgg_folder = folder.parent if encoder_in_parent else folder
    torch.save(state["vgg"], vgg_folder / "vgg_normalised.pth")
    return state
