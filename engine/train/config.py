"""The settings of one training run; saved as RUN_DIR/config.json and read back by --resume."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import StylerError

if TYPE_CHECKING:  # losses load torch; the CLI reads this config's defaults for --help
    from engine.train.losses import LossWeights

# The ablation studies ``styler ablate`` runs (engine.train.ablate).
STUDIES = ("levels", "loss-weights", "skew")

# Settings a resumed run may change: they do not alter what the weights become at a step.
RESUMABLE_CHANGES = frozenset({"steps", "save_every", "sample_every", "log_every", "workers", "device", "compile"})


@dataclass
class TrainConfig:
    content: str  # folder of content photos (recursive)
    style: str  # folder of style images (recursive)
    run_dir: str  # where model, checkpoint, metrics and samples go
    init: str | None = None  # Styler model to fine-tune (e.g. the imported release)
    encoder: str | None = None  # encoder weights to train from scratch with
    steps: int = 1000  # optimiser steps in total (a resumed run continues up to this)
    batch_size: int = 8  # per process; the release's recipe
    load_size: int = 512  # images are resized to load×load …
    crop_size: int = 256  # … then randomly cropped to crop×crop
    lr: float = 2e-4  # Adam, default betas, as the release
    lambda_global: float = 10.0  # release recipe; the seed paper used 1
    lambda_local: float = 3.0  # release recipe; the seed paper used 1
    lambda_skew: float = 0.0  # the seed's skewness term, off by default
    lambda_content: float = 0.0  # the release's content loss, off in its recipe
    levels: list[int] | None = None  # AdaAttN levels; None = the init model's, or 3,4,5
    precision: str = "auto"  # auto = bf16 autocast on CUDA, fp32 elsewhere
    save_every: int = 1000  # checkpoint + model.safetensors every N steps
    sample_every: int = 500  # sample grid every N steps (0 = only at the end)
    log_every: int = 10  # one metrics.jsonl line every N steps
    seed: int = 0  # data order, augmentation and fresh-layer initialisation
    device: str = "auto"
    workers: int = 4  # DataLoader worker processes (0 = load in the training process)
    compile: bool = False  # torch.compile the network (pays off on long GPU runs)

    @property
    def loss_weights(self) -> LossWeights:
        from engine.train.losses import LossWeights

        return LossWeights(self.lambda_global, self.lambda_local, self.lambda_skew, self.lambda_content)

    def validate(self) -> None:
        if self.init and self.encoder:
            raise StylerError("give either --init MODEL (fine-tune) or --encoder PATH (from scratch), not both")
        if not self.init and not self.encoder:
            raise StylerError(
                "no starting point: give --init MODEL to fine-tune a Styler model (e.g. the imported "
                "AdaAttN release), or --encoder PATH (vgg_normalised.pth or torchvision's vgg19 .pth) "
                "to train from scratch; a random encoder cannot learn style"
            )
        for name in ("steps", "batch_size", "load_size", "crop_size"):
            if getattr(self, name) <= 0:
                raise StylerError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        for name in ("save_every", "sample_every", "log_every", "workers"):
            if getattr(self, name) < 0:
                raise StylerError(f"--{name.replace('_', '-')} must not be negative")
        weights = asdict(self.loss_weights).values()
        if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
            raise StylerError("loss weights must be ≥ 0 and at least one of them > 0")
        if self.lr <= 0:
            raise StylerError(f"--lr must be positive, got {self.lr}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise StylerError(f"unknown precision {self.precision!r}; use auto, fp32, bf16 or fp16")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def load_saved(run_dir: Path) -> TrainConfig:
    path = run_dir / "config.json"
    try:
        return TrainConfig.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise StylerError(f"{run_dir}: no config.json; not a Styler training run (nothing to resume)") from None
    except (ValueError, TypeError) as exc:
        raise StylerError(f"{path}: unreadable run configuration ({exc})") from None


def merge_for_resume(saved: TrainConfig, given: dict[str, Any]) -> TrainConfig:
    """The saved config, updated with explicitly given settings that may change on resume."""
    merged = asdict(saved)
    for key, value in given.items():
        if value is None or key == "run_dir":
            continue
        if key not in RESUMABLE_CHANGES and value != merged.get(key):
            raise StylerError(
                f"--resume: {key} was {merged.get(key)!r} in this run, {value!r} now; changing it would "
                f"not continue the same run (only {', '.join(sorted(RESUMABLE_CHANGES))} may change)"
            )
        merged[key] = value
    return TrainConfig.from_dict(merged)
