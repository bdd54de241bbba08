"""Both encoder families load their published weight layouts and compute the right taps."""

from __future__ import annotations

import pytest
import torch
import torchvision

from engine.encoder import VGGEncoder, encoder_state_from_release, encoder_state_from_torchvision
from engine.errors import StylerError
from tests import reference_adaattn as reference
from tests.release_weights import make_release_state


def test_torchvision_vgg19_taps_match_torchvision():
    tv = torchvision.models.vgg19(weights=None).eval()
    encoder = VGGEncoder("torchvision")
    encoder.load_state_dict(encoder_state_from_torchvision(tv.state_dict()))
    image = torch.rand(1, 3, 64, 48)
    normalised = (image - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]
    ).view(1, 3, 1, 1)
    with torch.no_grad():
        ours = encoder(image)
        for tap, end in zip(ours, (2, 7, 12, 21, 30), strict=True):  # relu1_1 … relu5_1 in vgg19().features
            torch.testing.assert_close(tap, tv.features[:end](normalised), atol=1e-4, rtol=1e-4)


def test_vgg_normalised_taps_match_reference():
    state = make_release_state(seed=1)["vgg"]
    encoder = VGGEncoder("vgg_normalised")
    encoder.load_state_dict(encoder_state_from_release(state))
    image = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        for ours, want in zip(encoder(image), reference.encode(image, state), strict=True):
            torch.testing.assert_close(ours, want, atol=1e-3, rtol=1e-4)


def test_encoder_is_frozen_and_stays_in_eval_mode():
    encoder = VGGEncoder()
    encoder.train()
    assert not encoder.training
    assert not any(p.requires_grad for p in encoder.parameters())


def test_wrong_weights_are_named():
    with pytest.raises(StylerError, match="missing tensor '0.weight'"):
        encoder_state_from_release({})
    with pytest.raises(StylerError, match="shape"):
        encoder_state_from_torchvision({f"features.{i}.weight": torch.zeros(1) for i in range(40)})
