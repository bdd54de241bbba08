"""The training loop behind ``styler train`` (and the GUI's fine-tuning, which runs the
same command in a child process). Reads top to bottom: setup, data, model, the step loop,
checkpoints. Under torchrun every rank runs this; only rank 0 writes."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from engine.atomic import write_atomically
from engine.checkpoint import load_model, save_model
from engine.devices import is_out_of_memory
from engine.errors import StylerError
from engine.network import StyleNet
from engine.train import distributed
from engine.train.build import build_model
from engine.train.config import TrainConfig
from engine.train.data import PairStream, SkipLog, StreamSampler, check_sizes, find_images, fixed_images, make_loader
from engine.train.distributed import DistContext
from engine.train.lock import RunLock
from engine.train.objective import LOSS_TERMS, StyleObjective
from engine.train.run_status import StatusRecorder
from engine.train.samples import render_samples
from engine.train.state import ResumeState, has_checkpoint, load_checkpoint, save_checkpoint
from engine.train.stop import StopWatcher

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
SAMPLES_DIR = "samples"
SAMPLE_COUNT = 4  # content and style images in the sample grid

Log = Callable[[str], None]
# (content, style) -> (output, loss terms): the objective, plain, under DDP or compiled
Objective = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass
class TrainResult:
    run_dir: Path
    step: int  # optimiser steps done in total
    stopped: bool  # True when a stop request ended the run before config.steps
    skipped_files: int  # unreadable images met (and skipped) in this session
    model_path: Path


def train(config: TrainConfig, resume: bool = False, log: Log = print, keep_results: bool = True,
          within: StopWatcher | None = None) -> TrainResult:
    """Run (or continue) one training run. Raises StylerError for anything the user can fix.

    ``keep_results=False`` skips the final model, checkpoint and sample grid (the probe
    times a few steps and throws the run away). ``within``: the stop requests of what this
    run is part of (an ablation); they stop it like its own."""
    config.validate()
    check_sizes(config.load_size, config.crop_size)
    ctx = distributed.setup(config.device)
    try:
        status = StatusRecorder(Path(config.run_dir), enabled=ctx.is_main and keep_results)
        if not ctx.is_main:
            return _train(ctx, config, resume, lambda _: None, keep_results, status, within)
        # Rank 0 holds the run folder: a second trainer in it is refused before it writes.
        with RunLock(Path(config.run_dir)), status.failures_recorded():
            return _train(ctx, config, resume, log, keep_results, status, within)
    finally:
        distributed.teardown(ctx)


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype:
    if precision == "auto":
        # bf16 needs no loss scaling and halves activation memory on GPUs that have it.
        bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16_ok else torch.float32
    if precision == "fp16" and device.type == "cpu":
        raise StylerError("fp16 is not supported on the CPU; use fp32 or bf16")
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _prepare_model(config: TrainConfig, run_dir: Path, resume: bool) -> tuple[StyleNet, dict[str, Any]]:
    if resume:
        if not has_checkpoint(run_dir):
            raise StylerError(f"{run_dir}: no checkpoint to resume from; start the run without --resume")
        # The run's own model file knows the architecture and where the weights came from;
        # the weights themselves come from the checkpoint.
        net, info = load_model(run_dir / MODEL_FILE)
        return net, info.provenance
    if has_checkpoint(run_dir):
        raise StylerError(
            f"{run_dir}: already holds a training run; continue it with --resume or choose another -o folder"
        )
    return build_model(config)


def _training_info(config: TrainConfig, step: int, world_size: int) -> dict[str, Any]:
    info = {k: v for k, v in asdict(config).items() if k not in ("run_dir", "workers", "device", "compile")}
    info.update(step=step, world_size=world_size, recipe="styler train")
    return info


def _train(
    ctx: DistContext, config: TrainConfig, resume: bool, log: Log, keep_results: bool, status: StatusRecorder,
    within: StopWatcher | None,
) -> TrainResult:
    run_dir = Path(config.run_dir)
    content_paths = find_images(config.content, "content")
    style_paths = find_images(config.style, "style")
    device = ctx.device
    dtype = _autocast_dtype(config.precision, device)

    net, provenance = _prepare_model(config, run_dir, resume)
    net.train()
    channels_last = device.type == "cuda"
    # torch's stubs leave out the memory_format that Module.to accepts
    net.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)  # type: ignore[call-overload]
    optimizer = torch.optim.Adam(net.trainable_parameters(), lr=config.lr)
    state = load_checkpoint(run_dir, net, optimizer) if resume else ResumeState(0, 0.0, 0)
    global_batch = config.batch_size * ctx.world_size

    stream = PairStream(content_paths, style_paths, config.load_size, config.crop_size, config.seed)
    # Decode one pair now: unreadable data or bad sizes fail before any time is spent.
    stream[state.step * global_batch]
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(run_dir / CONFIG_FILE, lambda tmp: Path(tmp).write_text(config.to_json()))
        _truncate_metrics(run_dir / METRICS_FILE, state.step)
        sample_content = fixed_images(content_paths, SAMPLE_COUNT, config.crop_size)
        sample_style = fixed_images(style_paths, SAMPLE_COUNT, config.crop_size)
    distributed.barrier(ctx)
    status.running(state.step)
    saved_step = state.step if resume else None

    def save(step: int, elapsed: float, images: int) -> None:
        nonlocal saved_step
        if ctx.is_main:
            try:
                # Model first: whenever a checkpoint exists, the model file it resumes into does too.
                save_model(net, run_dir / MODEL_FILE, _training_info(config, step, ctx.world_size), provenance)
                save_checkpoint(run_dir, net, optimizer, ResumeState(step, elapsed, images))
            except StylerError as exc:  # e.g. the disk filled up: the atomic write kept the old file
                kept = f"the checkpoint of step {saved_step} is intact" if saved_step is not None else "no checkpoint was saved yet"
                raise StylerError(f"saving step {step} failed: {exc}; {kept} (free some space, then Resume)") from None
            saved_step = step
        distributed.barrier(ctx)

    if state.step >= config.steps:
        log(f"{run_dir}: already at step {state.step} of {config.steps}; raise --steps to train longer")
        status.ended(state.step, stopped=False)
        return TrainResult(run_dir, state.step, False, 0, run_dir / MODEL_FILE)

    objective: Objective = StyleObjective(net, config.loss_weights, seed=config.seed)
    if ctx.active:
        objective = DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        objective = torch.compile(objective)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else nullcontext()
    sampler = StreamSampler(state.step, config.steps, config.batch_size, ctx.rank, ctx.world_size)
    loader = make_loader(stream, sampler, config.workers, pin_memory=device.type == "cuda")
    skips = SkipLog(log)

    log(
        f"training {'from step ' + str(state.step) + ' ' if state.step else ''}to step {config.steps}: "
        f"{len(content_paths)} content, {len(style_paths)} style images, levels "
        f"{','.join(map(str, net.levels))}, batch {global_batch}, {str(dtype).removeprefix('torch.')} on "
        f"{device}{f' × {ctx.world_size} processes' if ctx.active else ''}"
    )
    step, images = state.step, state.images_seen
    session_start = interval_start = time.perf_counter()
    interval_steps = 0
    stopped = False
    with StopWatcher(run_dir, within) as stop:
        if ctx.is_main:
            # A STOP left from an earlier session (e.g. the process had already died) is stale.
            stop.consume()
        for batch in loader:
            skips.add(batch["skipped"])
            content = batch["content"].to(device, non_blocking=True)
            style = batch["style"].to(device, non_blocking=True)
            if channels_last:
                content = content.contiguous(memory_format=torch.channels_last)
                style = style.contiguous(memory_format=torch.channels_last)
            try:
                with autocast:
                    _, terms = objective(content, style)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(terms["loss"]).backward()
                scaler.step(optimizer)
                scaler.update()
            except (torch.OutOfMemoryError, RuntimeError) as exc:
                if not is_out_of_memory(exc):
                    raise
                raise StylerError(_out_of_memory_message(config, device, step)) from None
            step += 1
            images += global_batch
            interval_steps += 1
            elapsed = state.elapsed_seconds + time.perf_counter() - session_start

            if step % max(config.log_every, 1) == 0 or step == config.steps:
                seconds = (time.perf_counter() - interval_start) / interval_steps
                values = distributed.mean_over_ranks(ctx, {k: float(terms[k].detach()) for k in ("loss", *LOSS_TERMS)})
                if not math.isfinite(values["loss"]):
                    raise StylerError(
                        f"loss became {values['loss']} at step {step}; lower --lr or use --precision fp32 "
                        f"(the last checkpoint in {run_dir} is intact)"
                    )
                record = {
                    "step": step,
                    **{k: round(v, 6) for k, v in values.items()},
                    "lr": optimizer.param_groups[0]["lr"],
                    "images_per_s": round(global_batch / seconds, 3),
                    "step_seconds": round(seconds, 5),
                    "seconds": round(elapsed, 3),
                    "skipped_files": len(skips),
                }
                if device.type == "cuda":  # what the GUI shows as GPU memory in use
                    record["memory_gib"] = round(torch.cuda.memory_allocated(device) / 2**30, 3)
                if ctx.is_main:
                    _append_metrics(run_dir / METRICS_FILE, record)
                log(
                    f"step {step}/{config.steps}  loss {values['loss']:.4f}  (global {values['global']:.4f}, "
                    f"local {values['local']:.4f})  {record['images_per_s']:.1f} img/s"
                )
                interval_start, interval_steps = time.perf_counter(), 0

            stopped = distributed.any_rank(ctx, stop.requested()) and step < config.steps
            last = step == config.steps and keep_results
            if stopped or last or (config.save_every and step % config.save_every == 0):
                save(step, elapsed, images)
            if ctx.is_main and (last or (config.sample_every and step % config.sample_every == 0)):
                render_samples(net, sample_content, sample_style, run_dir / SAMPLES_DIR / f"step_{step:07d}.png")
            if stopped:
                if ctx.is_main:
                    stop.consume()
                # Part of an ablation, the study says how to continue it.
                resume_hint = "" if within is not None else f"; continue with `styler train -o {run_dir} --resume`"
                log(f"stopped at step {step}: checkpoint saved{resume_hint}")
                break
    if skips:
        log(f"warning: {len(skips)} unreadable image(s) were skipped")
    status.ended(step, stopped)
    return TrainResult(run_dir, step, stopped, len(skips), run_dir / MODEL_FILE)


def _out_of_memory_message(config: TrainConfig, device: torch.device, step: int) -> str:
    where = "GPU" if device.type == "cuda" else str(device)
    lower = [f"the batch size (now {config.batch_size})", f"the crop size (now {config.crop_size})"]
    if device.type == "cuda" and config.precision in ("auto", "fp32"):
        lower.append("or use precision bf16")
    return (
        f"out of {where} memory at step {step + 1}: lower {', '.join(lower)}; "
        f"the last checkpoint in {config.run_dir} is intact"
    )


def _append_metrics(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _truncate_metrics(path: Path, step: int) -> None:
    """On resume, drop lines logged after the checkpoint: those steps are about to be redone."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
    write_atomically(path, lambda tmp: Path(tmp).write_text("".join(line + "\n" for line in kept)))


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
