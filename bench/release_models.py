"""The bench's models: one set of seeded random weights in the AdaAttN release's file format,
loaded both into the authors' forward pass (bench/authors_adaattn.py) and into Styler.
Timing does not depend on the weights' values; accuracy figures are for these weights."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from bench.authors_adaattn import AuthorsAdaAttN  # noqa: E402
from engine.checkpoint import release_state_to_styler  # noqa: E402
from engine.network import StyleNet  # noqa: E402
from tests.release_weights import make_release_state  # noqa: E402

PHOTOS = Path("/work/shared/photos")  # overridable with --photos in each script


def release_state(seed: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    return make_release_state(seed)


def authors_model(state: dict[str, dict[str, torch.Tensor]], seed: int | None = 6666) -> AuthorsAdaAttN:
    return AuthorsAdaAttN(state, seed=seed)


def styler_model(state: dict[str, dict[str, torch.Tensor]]) -> StyleNet:
    model = StyleNet()
    renamed = release_state_to_styler(
        decoder=state["decoder"], transformer=state["transformer"],
        adaattn_3=state["adaattn_3"], encoder=state["vgg"],
    )
    model.load_state_dict({k: renamed[k] for k in model.state_dict()})
    return model
