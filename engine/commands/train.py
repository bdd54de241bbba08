"""``styler train``: fine-tune a Styler model, or train one from scratch, on image folders.

Multi-GPU: ``torchrun --nproc_per_node N -m engine.cli train …`` (DDP, one process per GPU)."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from engine.commands._option_types import finite_float, seed_number
from engine.errors import StylerError
from engine.train.config import TrainConfig, load_saved, merge_for_resume

_PATH_FIELDS = ("content", "style", "init", "encoder")


def _levels(text: str) -> list[int]:
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected levels like 3,4,5, got {text!r}") from None


def add_training_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `train` and `ablate`. Defaults are None so that an explicitly given
    value can be told apart from the default (``--resume`` only accepts some changes)."""
    d = TrainConfig("", "", "")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--init", metavar="MODEL", help="Styler model to fine-tune (e.g. the imported AdaAttN release)")
    start.add_argument("--encoder", metavar="PATH",
                       help="train from scratch on this encoder: vgg_normalised.pth, torchvision's vgg19 .pth, "
                       "or a Styler model's encoder")
    p.add_argument("--batch-size", type=int, metavar="B", help=f"images per step and process (default {d.batch_size})")
    p.add_argument("--load-size", type=int, metavar="N", help=f"resize images to N×N first (default {d.load_size})")
    p.add_argument("--crop-size", type=int, metavar="N",
                   help=f"then random-crop N×N, a multiple of 16 (default {d.crop_size})")
    p.add_argument("--lr", type=finite_float, help=f"Adam learning rate (default {d.lr})")
    p.add_argument("--lambda-skew", type=finite_float, metavar="K",
                   help="weight of the seed's skewness term (default 0 = off)")
    p.add_argument("--lambda-content", type=finite_float, metavar="C", help="weight of the content loss (default 0)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                   help="auto = bf16 autocast on CUDA, fp32 elsewhere")
    p.add_argument("--seed", type=seed_number, help=f"seed for data order, augmentation and new layers (default {d.seed})")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default auto; torchrun assigns GPUs itself)")
    p.add_argument("--workers", type=int, metavar="N", help=f"data loading processes (default {d.workers})")
    p.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile the network (worth it on long GPU runs; off by default)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = TrainConfig("", "", "")
    p = subparsers.add_parser(
        "train",
        help="fine-tune or train a style model on folders of images",
        description="Train AdaAttN on CONTENT and STYLE image folders. Loss weights default to the "
        "released recipe (global 10, local 3); the seed paper's setting is "
        "--lambda-global 1 --lambda-local 1. Stop with Ctrl-C or by creating RUN_DIR/STOP: a "
        "checkpoint is saved and --resume continues exactly where it stopped.",
    )
    p.add_argument("--content", metavar="DIR", help="folder of content photos (searched recursively)")
    p.add_argument("--style", metavar="DIR", help="folder of style images (searched recursively)")
    p.add_argument("-o", "--output", dest="run_dir", required=True, type=Path, metavar="RUN_DIR",
                   help="run folder: model.safetensors, checkpoint, metrics.jsonl, samples/")
    p.add_argument("--steps", type=int, metavar="N", help=f"total optimiser steps (default {d.steps})")
    p.add_argument("--lambda-global", type=finite_float, metavar="G", help=f"global style loss weight (default {d.lambda_global})")
    p.add_argument("--lambda-local", type=finite_float, metavar="L", help=f"local feature loss weight (default {d.lambda_local})")
    p.add_argument("--levels", type=_levels, metavar="3,4,5",
                   help="AdaAttN levels to train (default: the --init model's, or 3,4,5)")
    p.add_argument("--save-every", type=int, metavar="N", help=f"checkpoint every N steps (default {d.save_every})")
    p.add_argument("--sample-every", type=int, metavar="N",
                   help=f"sample grid every N steps, 0 = only at the end (default {d.sample_every})")
    p.add_argument("--log-every", type=int, metavar="N", help=f"metrics line every N steps (default {d.log_every})")
    add_training_options(p)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in RUN_DIR from its last checkpoint (other options may be left out)")
    p.add_argument("--probe", type=int, metavar="N",
                   help="measure instead of training: run N real steps at these settings in a scratch folder "
                   "(RUN_DIR is not touched) and print seconds per step, the run's ETA and peak memory; "
                   "the last line is the same as JSON")
    p.set_defaults(run=run)


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the user set on the command line (paths made absolute)."""
    names = {f.name for f in fields(TrainConfig)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    for key in _PATH_FIELDS:
        if key in given:
            given[key] = str(Path(given[key]).expanduser().resolve())
    given["run_dir"] = str(Path(args.run_dir).expanduser().resolve())
    return given


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    given = given_settings(args)
    if args.resume:
        return merge_for_resume(load_saved(Path(given["run_dir"])), given)
    missing = [f"--{k}" for k in ("content", "style") if k not in given]
    if missing:
        raise StylerError(f"{' and '.join(missing)} required (unless --resume continues an existing run)")
    return TrainConfig(**given)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(minutes, 1)} min"


def run_probe(config: TrainConfig, steps: int, resume: bool) -> int:
    from engine.train.probe import probe

    if steps <= 0:
        raise StylerError(f"--probe {steps}: give a positive number of steps to time")
    start = 0
    if resume:
        from engine.train.runs import run_summary

        start = run_summary(Path(config.run_dir)).checkpoint_step or 0
    result = probe(config, steps, start_step=start)
    print(
        f"probe: {result.seconds_per_step:.3f} s/step on {result.device}; {config.steps - start} steps ≈ "
        f"{_duration(result.eta_seconds)}; peak {result.memory_kind} memory {result.peak_memory_bytes / 2**30:.2f} GiB"
    )
    print(json.dumps(result.to_dict()))
    return 0


def run(args: argparse.Namespace) -> int:
    from engine.train.loop import train

    if args.probe is not None:
        return run_probe(config_from_args(args), args.probe, args.resume)
    result = train(config_from_args(args), resume=args.resume)
    state = "stopped" if result.stopped else "finished"
    print(f"{state} at step {result.step}: {result.model_path} (use it with `styler stylize --model`)")
    return 0
