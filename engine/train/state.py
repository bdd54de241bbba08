"""Resume state of a run: RUN_DIR/checkpoint.pt (tensors, ints and dicts only, so it loads
with ``weights_only=True``) and a human-readable RUN_DIR/checkpoint.json beside it.

checkpoint.pt is the single source of truth for resuming: weights, optimiser moments, the
step and RNG states travel in one atomically replaced file, so no crash can pair weights
of one step with an optimiser of another."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.atomic import write_atomically
from engine.errors import StylerError
from engine.network import StyleNet

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_INFO = "checkpoint.json"
STATE_VERSION = 1
_FROZEN = "encoder."


@dataclass
class ResumeState:
    step: int
    elapsed_seconds: float  # training time over all sessions of the run
    images_seen: int


def save_checkpoint(
    run_dir: Path, net: StyleNet, optimizer: torch.optim.Optimizer, state: ResumeState
) -> Path:
    payload: dict[str, Any] = {
        "version": STATE_VERSION,
        "step": state.step,
        "elapsed_seconds": state.elapsed_seconds,
        "images_seen": state.images_seen,
        # The frozen encoder never changes; it lives in the run's model.safetensors.
        "model": {k: v.detach().cpu() for k, v in net.state_dict().items() if not k.startswith(_FROZEN)},
        "optimizer": optimizer.state_dict(),
        "rng_cpu": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        payload["rng_cuda"] = torch.cuda.get_rng_state_all()
    path = run_dir / CHECKPOINT
    write_atomically(path, lambda tmp: torch.save(payload, tmp))
    info = {"step": state.step, "elapsed_seconds": round(state.elapsed_seconds, 3), "images_seen": state.images_seen}
    write_atomically(run_dir / CHECKPOINT_INFO, lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2)))
    return path


def load_checkpoint(run_dir: Path, net: StyleNet, optimizer: torch.optim.Optimizer) -> ResumeState:
    """Fill ``net`` and ``optimizer`` in place; restore the RNG states."""
    path = run_dir / CHECKPOINT
    if not path.is_file():
        raise StylerError(f"{run_dir}: no {CHECKPOINT} to resume from; start the run without --resume")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("version") != STATE_VERSION:
            raise ValueError(f"state version {payload.get('version')!r}, expected {STATE_VERSION}")
        missing, unexpected = net.load_state_dict(payload["model"], strict=False)
        if unexpected or any(not k.startswith(_FROZEN) for k in missing):
            raise ValueError(f"weights do not match the run's network ({(unexpected or missing)[0]!r})")
        optimizer.load_state_dict(payload["optimizer"])
    except StylerError:
        raise
    except Exception as exc:  # a damaged or foreign file surfaces as many exception types
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise StylerError(f"{path}: cannot resume from this checkpoint ({first})") from None
    torch.set_rng_state(payload["rng_cpu"])
    if "rng_cuda" in payload and torch.cuda.is_available():
        states = payload["rng_cuda"]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    return ResumeState(int(payload["step"]), float(payload["elapsed_seconds"]), int(payload["images_seen"]))


def has_checkpoint(run_dir: Path) -> bool:
    return (run_dir / CHECKPOINT).is_file()
