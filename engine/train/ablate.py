"""The seed paper's three ablations (its 4.2), on a small budget: train each variant with
the same data, seed and step count, then compare pictures, loss curves and time per step.

- levels:       AdaAttN levels {3,4,5} vs without 4 vs without 5 (4.2.1; the seed timed
                128 s vs 115 s per epoch without level 4)
- loss-weights: (λg, λl) from (1, 0) to (0, 1) by 0.25 (4.2.2, Fig. 10)
- skew:         without vs with the skewness term (4.2.3)
Each variant is an ordinary training run under OUT/runs/<name>. The study holds OUT like a
run holds its folder (OUT/.lock, OUT/status.json) and writes OUT/study.json, so the app can
list and follow it. Ctrl-C or OUT/STOP stops the variant training (checkpoint saved) and
the study with it; ``--resume`` (or the same command again) continues where it stopped."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.checkpoint import load_model, read_model_info
from engine.devices import resolve_device
from engine.errors import StylerError
from engine.train import distributed
from engine.train.config import STUDIES, TrainConfig, load_saved, merge_for_resume
from engine.train.data import find_images, fixed_images
from engine.train.lock import RunLock
from engine.train.loop import MODEL_FILE, Log, read_metrics, train
from engine.train.report import write_report
from engine.train.run_status import StatusRecorder
from engine.train.samples import stylize_pairs
from engine.train.state import has_checkpoint
from engine.train.stop import StopWatcher
from engine.train.study import StudyPlan, read_plan, variant_dir, write_plan

GRID_ROWS = 4  # content images in the comparison grid


@dataclass(frozen=True)
class Variant:
    name: str  # folder name under OUT/runs
    label: str  # column heading and legend entry (ASCII: PIL's default font lacks λ)
    overrides: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields


@dataclass
class VariantResult:
    variant: Variant
    config: TrainConfig
    seconds_per_step: float
    metrics: list[dict[str, Any]]
    levels: tuple[int, ...]  # as trained (a variant without --levels keeps the init model's)
    stopped_at: int | None = None  # the step a stop request ended it at, short of its budget


@dataclass
class StudyResult:
    report: Path | None  # None when stopped before any variant trained
    stopped: bool
    message: str  # how it ended, in words (also OUT/status.json's message)


def variants(study: str, skew_weight: float = 1.0) -> list[Variant]:
    if study == "levels":
        return [
            Variant("levels-345", "levels 3,4,5", {"levels": [3, 4, 5]}),
            Variant("levels-35", "without 4", {"levels": [3, 5]}),
            Variant("levels-34", "without 5", {"levels": [3, 4]}),
        ]
    if study == "loss-weights":
        pairs = [(1.0, 0.0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0.0, 1.0)]
        return [
            Variant(f"g{g:g}-l{local:g}", f"g {g:g} / l {local:g}", {"lambda_global": g, "lambda_local": local})
            for g, local in pairs
        ]
    if study == "skew":
        return [
            Variant("no-skew", "without skew", {"lambda_skew": 0.0}),
            Variant("skew", "with skew", {"lambda_skew": skew_weight}),
        ]
    raise StylerError(f"unknown study {study!r}; choose one of {', '.join(STUDIES)}")


def seconds_per_step(metrics: list[dict[str, Any]]) -> float:
    """Mean wall time per step, leaving out the first logged interval (warm-up, first
    allocations, compilation) when there is more than one."""
    intervals = []
    previous = 0
    for record in metrics:
        intervals.append((record["step"] - previous, record["step_seconds"]))
        previous = record["step"]
    if len(intervals) > 1:
        intervals = intervals[1:]
    steps = sum(n for n, _ in intervals)
    return sum(n * s for n, s in intervals) / steps if steps else float("nan")


def _run_variant(base: TrainConfig, variant: Variant, out: Path, log: Log, stop: StopWatcher) -> VariantResult:
    run_dir = variant_dir(out, variant.name)
    config = replace(base, run_dir=str(run_dir), **variant.overrides)
    resume = has_checkpoint(run_dir)
    if resume:
        # Refuse to extend a variant trained with other settings: the comparison would lie.
        merge_for_resume(load_saved(run_dir), asdict(config))
    log(f"— {variant.label}")
    trained = train(config, resume=resume, log=log, within=stop)
    metrics = read_metrics(run_dir)
    levels = read_model_info(run_dir / MODEL_FILE).config.levels
    stopped_at = trained.step if trained.stopped else None
    return VariantResult(variant, config, seconds_per_step(metrics), metrics, levels, stopped_at)


def _outcome(chosen: list[Variant], results: list[VariantResult], out: Path) -> str:
    """How a study ended, in words: where it stopped and which variants did not run."""
    if len(results) == len(chosen) and results[-1].stopped_at is None:
        return f"finished: {len(chosen)} variants; report in {out / 'report.md'}"
    last = results[-1] if results else None
    if last is not None and last.stopped_at is not None:
        where = (f"in variant {len(results)} of {len(chosen)} ({last.variant.label}) at step "
                 f"{last.stopped_at} of {last.config.steps} (checkpoint saved)")
    else:
        where = f"after variant {len(results)} of {len(chosen)}" if results else "before its first variant"
    not_run = [v.label for v in chosen[len(results):]]
    return (f"stopped {where}; not run: {', '.join(not_run) or 'none'}; "
            f"`styler ablate --resume -o {out}` continues it")


def run_study(study: str, base: TrainConfig, out: Path, skew_weight: float = 1.0, log: Log = print) -> StudyResult:
    """Train every variant of ``study`` from ``base`` (its run_dir is ignored) and write
    OUT/report.md, OUT/grid.png and the loss curves. A stop request (Ctrl-C, SIGTERM or
    OUT/STOP) ends the variant training with a checkpoint and starts no further one; the
    report then covers the variants trained so far and names those not run."""
    if distributed.launched_by_torchrun() and int(os.environ["WORLD_SIZE"]) > 1:
        # Each process would hold OUT's lock and decide between variants on its own.
        raise StylerError("styler ablate runs in one process: start it without torchrun "
                          "(torchrun is for one `styler train` run on several GPUs)")
    out = Path(out)
    chosen = variants(study, skew_weight)
    held = read_plan(out)
    if held is not None and held.study != study:
        raise StylerError(f"{out} holds the {held.study} ablation; choose another -o folder for {study}")
    content_paths = find_images(base.content, "content")
    style_paths = find_images(base.style, "style")
    status = StatusRecorder(out, enabled=True)
    # The study's watcher owns the signals for its whole length, so a Ctrl-C between two
    # variants stops it too, and each variant stops on what stops the study.
    with RunLock(out), status.failures_recorded(), StopWatcher(out) as stop:
        plan = StudyPlan(study, [v.name for v in chosen], [v.label for v in chosen], skew_weight,
                         asdict(replace(base, run_dir=str(out))))
        write_plan(out, plan)
        stop.consume()  # a STOP left from an earlier session is stale
        status.running(0)
        results: list[VariantResult] = []
        for variant in chosen:
            if stop.requested():
                break
            results.append(_run_variant(base, variant, out, log, stop))
            if results[-1].stopped_at is not None:
                break
        message = _outcome(chosen, results, out)
        stopped = message.startswith("stopped")
        if stopped:
            stop.consume()
            log(message)
        note = message if stopped else ""
        report = _write_report(study, base, (content_paths, style_paths), results, out, note) if results else None
        status.ended(0, stopped, message)
    if report is not None:
        log(f"report: {report}")
    return StudyResult(report, stopped, message)


def _write_report(study: str, base: TrainConfig, images: tuple[list[Path], list[Path]],
                  results: list[VariantResult], out: Path, note: str) -> Path:
    content_paths, style_paths = images
    size = base.crop_size
    device = resolve_device(base.device)
    content = fixed_images(content_paths, GRID_ROWS, size)
    style = fixed_images(style_paths, 1, size)
    columns = []
    for result in results:
        net, _ = load_model(Path(result.config.run_dir) / MODEL_FILE, device)
        columns.append(stylize_pairs(net, content, style)[:, 0])  # (rows, 3, S, S)
    return write_report(study, results, content, style, columns, out, note)
