"""CPU inference runs VGG and the decoder with fewer passes over memory (pools without
indices, padding written by the layer before it: engine/inference_layers.py). A pass that
wants gradients runs the plain layers, so the two must agree."""

from __future__ import annotations

import pytest
import torch

from engine.encoder import VGGEncoder
from engine.network import Decoder

LAYOUTS = [torch.contiguous_format, torch.channels_last]


@pytest.mark.parametrize("memory_format", LAYOUTS)
@pytest.mark.parametrize("kind", ["vgg_normalised", "torchvision"])
def test_encoder_features_at_inference_equal_the_plain_layers(kind, memory_format):
    """Odd sizes included: 84 → 42 → 21 → 11 (ceil_mode) takes the plain pool at relu4_1."""
    torch.manual_seed(0)
    encoder = VGGEncoder(kind)
    image = torch.rand(1, 3, 64, 84).contiguous(memory_format=memory_format)
    with torch.no_grad():
        inference = encoder(image)
    plain = encoder(image.clone().requires_grad_(True))
    assert len(inference) == len(plain) == 5
    for fast, reference_tap in zip(inference, plain, strict=True):
        torch.testing.assert_close(fast, reference_tap.detach(), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("memory_format", LAYOUTS)
@pytest.mark.parametrize("level3_skip", [True, False])
def test_decoder_at_inference_equals_the_plain_layers(level3_skip, memory_format):
    torch.manual_seed(0)
    decoder = Decoder(level3_skip=level3_skip)
    deep = torch.randn(1, 512, 6, 10).contiguous(memory_format=memory_format)
    level3 = torch.randn(1, 256, 12, 20).contiguous(memory_format=memory_format) if level3_skip else None
    with torch.no_grad():
        inference = decoder(deep, level3)
    plain = decoder(deep.clone().requires_grad_(True), level3)
    assert inference.shape == (1, 3, 48, 80)
    torch.testing.assert_close(inference, plain.detach(), atol=1e-5, rtol=1e-5)
