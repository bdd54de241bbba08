"""Styler's model file: one ``.safetensors`` with a JSON header, and the release importer.

The header's ``__metadata__`` holds string values:
  format          "styler-model"
  format_version  "1"
  config          StyleNetConfig as JSON (encoder kind, levels)
  training        JSON: the settings the weights were trained with (free-form)
  provenance      JSON: where the weights came from (free-form)
Loading never unpickles: safetensors holds tensors only, and the release's ``.pth`` files
are read with ``weights_only=True`` by the importer alone.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from engine.atomic import write_atomically
from engine.encoder import encoder_state_from_release
from engine.errors import StylerError
from engine.network import StyleNet, StyleNetConfig

FORMAT_NAME = "styler-model"
FORMAT_VERSION = 1

RELEASE_FILES = {
    "decoder": "latest_net_decoder.pth",
    "transformer": "latest_net_transformer.pth",
    "adaattn_3": "latest_net_adaattn_3.pth",
}
RELEASE_ENCODER_FILE = "vgg_normalised.pth"


@dataclass
class ModelInfo:
    """What a model file says about itself."""

    path: Path
    config: StyleNetConfig
    training: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def save_model(
    model: StyleNet,
    path: str | os.PathLike[str],
    training: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write the model atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "config": model.config.to_json(),
        "training": json.dumps(training or {}),
        "provenance": json.dumps(provenance or {}),
    }
    write_atomically(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
    return path


def read_model_info(path: str | os.PathLike[str]) -> ModelInfo:
    """Read and validate only the header: cheap, for listings and checks."""
    path = Path(path)
    metadata = _open_header(path)
    return _info_from_metadata(path, metadata)


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[StyleNet, ModelInfo]:
    """Build the network the header describes and fill it with the file's tensors."""
    path = Path(path)
    info = read_model_info(path)
    # Built without weights (on the meta device) and then given the file's tensors: no random
    # initialisation to compute and throw away (0.3 s here), and no draw from torch's global
    # random generator, which another thread may be using with a seed of its own.
    with torch.device("meta"):
        model = StyleNet(info.config)
    expected = model.state_dict()
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            names = set(f.keys())
            missing = sorted(set(expected) - names)
            if missing:
                raise StylerError(
                    f"{path}: model file is missing {len(missing)} tensor(s), e.g. {missing[0]!r}; "
                    "it may be from an incompatible Styler version: re-import or re-download it"
                )
            state = {name: f.get_tensor(name) for name in expected}
    except SafetensorError as exc:
        raise StylerError(f"{path}: model file is damaged ({exc}); re-download or re-import it") from None
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise StylerError(
                f"{path}: tensor {name!r} has shape {tuple(tensor.shape)}, expected "
                f"{tuple(expected[name].shape)}; the file does not match its own header"
            )
    check_finite(state, path)
    model.load_state_dict(state, assign=True)
    return model.to(device).eval(), info


def check_finite(state: dict[str, torch.Tensor], source: Path) -> None:
    """Refuse weights holding NaN or infinity: they render a black picture, never a result."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise StylerError(
                f"{source}: tensor {name!r} holds NaN or infinite values; these weights are broken "
                "(e.g. a training run that diverged): use another model file"
            )


def _open_header(path: Path) -> dict[str, str]:
    if not path.exists():
        raise StylerError(f"{path}: model file not found")
    if path.is_dir():
        raise StylerError(f"{path}: is a folder, expected a Styler .safetensors model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise StylerError(
            f"{path}: not a readable .safetensors model ({exc}); the file is truncated or of "
            "another kind: re-download it, or import released weights with "
            "`styler models import-adaattn`"
        ) from None
    if metadata.get("format") != FORMAT_NAME:
        raise StylerError(
            f"{path}: a .safetensors file, but not a Styler model (no '{FORMAT_NAME}' header); "
            "import foreign weights with `styler models import-adaattn`"
        )
    return metadata


def _info_from_metadata(path: Path, metadata: dict[str, str]) -> ModelInfo:
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        raise StylerError(
            f"{path}: Styler model format version {metadata.get('format_version')!r}, this "
            f"Styler reads version {FORMAT_VERSION}: update Styler or re-export the model"
        )
    try:
        config = StyleNetConfig.from_json(metadata["config"])
        training = json.loads(metadata.get("training", "{}"))
        provenance = json.loads(metadata.get("provenance", "{}"))
    except (KeyError, ValueError, TypeError) as exc:
        raise StylerError(f"{path}: model header is malformed ({exc}); re-download or re-import it") from None
    return ModelInfo(path=path, config=config, training=training, provenance=provenance)


# ----------------------------------------------------------------------------- import

def load_pth_state(path: Path) -> dict[str, torch.Tensor]:
    """A plain ``torch.save``d state dict, read without unpickling arbitrary objects."""
    if not path.is_file():
        raise StylerError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            # torch's advice on old pickle protocols is about its own loader, not the file;
            # whether the file is plain weights is decided by the error below.
            warnings.filterwarnings("ignore", message=".*weights_only Unpickler might not support")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message suggests weights_only=False, i.e. running the file's code: never.
        raise StylerError(
            f"{path}: not a plain weights file (it holds Python objects besides tensors, which "
            "Styler never runs); it was not loaded"
        ) from None
    except Exception as exc:  # torch raises many types for damaged files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StylerError(f"{path}: cannot be read as a weights file ({reason[:200]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StylerError(f"{path}: not a state dict of tensors")
    check_finite(state, path)
    # Weights saved from DataParallel carry a 'module.' prefix; the tensors are the same.
    return {k.removeprefix("module."): v for k, v in state.items()}


def find_release_encoder(folder: Path) -> Path | None:
    for candidate in (folder / RELEASE_ENCODER_FILE, folder.parent / RELEASE_ENCODER_FILE):
        if candidate.is_file():
            return candidate
    return None


def release_state_to_styler(
    decoder: dict[str, torch.Tensor],
    transformer: dict[str, torch.Tensor],
    adaattn_3: dict[str, torch.Tensor],
    encoder: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Rename the release's keys to StyleNet's (all three levels; the release has them all)."""
    state: dict[str, torch.Tensor] = {}
    state.update({f"encoder.{k}": v for k, v in encoder_state_from_release(encoder).items()})
    state.update({f"attn.3.{k}": v for k, v in adaattn_3.items()})
    for k, v in transformer.items():
        for prefix, ours in (("attn_adain_4_1.", "attn.4."), ("attn_adain_5_1.", "attn.5.")):
            if k.startswith(prefix):
                state[ours + k.removeprefix(prefix)] = v
        if k.startswith("merge_conv."):
            # Ours is Sequential(pad, conv): the conv is index 1.
            state["merge_conv.1." + k.removeprefix("merge_conv.")] = v
    for k, v in decoder.items():
        state[k.replace("decoder_layer_1.", "decoder.head.").replace("decoder_layer_2.", "decoder.body.")] = v
    return state


def import_release(
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str],
    encoder_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert the AdaAttN release (three ``latest_net_*.pth`` + ``vgg_normalised.pth``)
    into one Styler model file. Nothing is written unless every tensor checks out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StylerError(f"{folder}: not a folder; give the folder holding {RELEASE_FILES['decoder']}")
    missing = [name for name in RELEASE_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise StylerError(
            f"{folder}: missing {', '.join(missing)}; expected the AdaAttN release's "
            f"{', '.join(RELEASE_FILES.values())}"
        )
    vgg = Path(encoder_path) if encoder_path else find_release_encoder(folder)
    if vgg is None:
        raise StylerError(
            f"{folder}: {RELEASE_ENCODER_FILE} not found there or in its parent; pass --encoder PATH"
        )
    parts = {name: load_pth_state(folder / file) for name, file in RELEASE_FILES.items()}
    state = release_state_to_styler(encoder=load_pth_state(vgg), **parts)
    model = StyleNet(StyleNetConfig())
    expected = model.state_dict()
    missing_keys = sorted(set(expected) - set(state))
    if missing_keys:
        raise StylerError(f"{folder}: the release files lack {missing_keys[0]!r} (and {len(missing_keys) - 1} more)")
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise StylerError(
                f"{folder}: {key!r} has shape {tuple(state[key].shape)}, expected {tuple(tensor.shape)}; "
                "these are not the released AdaAttN weights"
            )
    model.load_state_dict({k: state[k].float() for k in expected})
    provenance = {
        "source": "AdaAttN release (Liu et al. 2021)",
        "files": [*RELEASE_FILES.values(), vgg.name],
    }
    training = {"recipe": "release", "lambda_global": 10.0, "lambda_local": 3.0, "lambda_content": 0.0}
    return save_model(model, output, training=training, provenance=provenance)
