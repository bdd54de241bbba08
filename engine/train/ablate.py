"""The seed paper's three ablations (its 4.2), on a small budget: train each variant with
the same data, seed and step count, then compare pictures, loss curves and time per step.

- levels:       AdaAttN levels {3,4,5} vs without 4 vs without 5 (4.2.1; the seed timed
                128 s vs 115 s per epoch without level 4)
- loss-weights: (λg, λl) from (1, 0) to (0, 1) by 0.25 (4.2.2, Fig. 10)
- skew:         without vs with the skewness term (4.2.3)
Each variant is an ordinary training run under OUT/runs/<name>, so an interrupted study
continues where it stopped when run again."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.checkpoint import load_model, read_model_info
from engine.devices import resolve_device
from engine.errors import StylerError
from engine.train.config import STUDIES, TrainConfig, load_saved, merge_for_resume
from engine.train.data import find_images, fixed_images
from engine.train.loop import MODEL_FILE, Log, read_metrics, train
from engine.train.report import write_report
from engine.train.samples import stylize_pairs
from engine.train.state import has_checkpoint

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


def _run_variant(base: TrainConfig, variant: Variant, out: Path, log: Log) -> VariantResult:
    run_dir = out / "runs" / variant.name
    config = replace(base, run_dir=str(run_dir), **variant.overrides)
    resume = has_checkpoint(run_dir)
    if resume:
        # Refuse to extend a variant trained with other settings: the comparison would lie.
        merge_for_resume(load_saved(run_dir), asdict(config))
    log(f"— {variant.label}")
    train(config, resume=resume, log=log)
    metrics = read_metrics(run_dir)
    levels = read_model_info(run_dir / MODEL_FILE).config.levels
    return VariantResult(variant, config, seconds_per_step(metrics), metrics, levels)


def run_study(study: str, base: TrainConfig, out: Path, skew_weight: float = 1.0, log: Log = print) -> Path:
    """Train every variant of ``study`` from ``base`` (its run_dir is ignored) and write
    OUT/report.md, OUT/grid.png and the loss curves. Returns the report's path."""
    chosen = variants(study, skew_weight)
    content_paths = find_images(base.content, "content")
    style_paths = find_images(base.style, "style")
    results = [_run_variant(base, v, out, log) for v in chosen]

    size = base.crop_size
    device = resolve_device(base.device)
    content = fixed_images(content_paths, GRID_ROWS, size)
    style = fixed_images(style_paths, 1, size)
    columns = []
    for result in results:
        net, _ = load_model(Path(result.config.run_dir) / MODEL_FILE, device)
        columns.append(stylize_pairs(net, content, style)[:, 0])  # (rows, 3, S, S)
    report = write_report(study, results, content, style, columns, out)
    log(f"report: {report}")
    return report
