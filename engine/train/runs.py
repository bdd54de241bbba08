"""What a run folder says about its run: state, progress, last loss, duration, settings.
Reads only small files (config.json, checkpoint.json, status.json, the last metrics line)
and the lock, so a runs list can refresh often. An ablation's folder (``study.json``) reads
the same way, with its variants' progress. Never imports torch."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.train.lock import lock_holder
from engine.train.run_status import RunStatus, read_status
from engine.train.study import STUDY_FILE, StudyPlan, read_plan, variant_dir

RunState = Literal["new", "running", "stopped", "finished", "failed"]
MODEL_FILE = "model.safetensors"  # as engine.train.loop writes it (that module imports torch)
CHECKPOINT_INFO = "checkpoint.json"


@dataclass
class RunSummary:
    run_dir: Path
    state: RunState
    step: int  # of the last metrics line (the checkpoint's step when there is none)
    steps: int  # the run's target
    checkpoint_step: int | None  # where Resume continues from; None = no checkpoint
    last_loss: float | None
    seconds: float  # training time over all sessions
    message: str  # why it failed, when it did
    config: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None  # the training process, while it runs
    supervisor: int | None = None
    study: StudyProgress | None = None  # set for an ablation's folder

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def model_path(self) -> Path | None:
        path = self.run_dir / MODEL_FILE
        return path if path.is_file() else None

    @property
    def can_resume(self) -> bool:
        # A study resumes even before its first checkpoint: its variants not run are still to run.
        resumable = self.checkpoint_step is not None or self.study is not None
        return self.state in ("stopped", "failed") and resumable


@dataclass
class StudyProgress:
    """Where an ablation is: its variants' own summaries, in training order, and which one
    trains now (or trains next; the last one once all have finished)."""

    study: str
    labels: list[str]
    variants: list[RunSummary]
    current: int

    @property
    def variant(self) -> RunSummary:
        return self.variants[self.current]

    @property
    def label(self) -> str:
        return self.labels[self.current]

    @property
    def not_run(self) -> list[str]:
        """Labels of the variants that have not started."""
        return [label for label, v in zip(self.labels, self.variants, strict=True) if v.state == "new"]

    def describe(self) -> str:
        return f"variant {self.current + 1} of {len(self.variants)} ({self.label})"


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def last_metrics(path: Path, window: int = 4096) -> dict[str, Any]:
    """The last complete line of a metrics.jsonl, read from its end."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - window))
            lines = [line for line in f.read().splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}
    except (OSError, ValueError):
        return {}


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _state(holder: int | None, status: RunStatus | None) -> tuple[RunState | None, str]:
    """The state the folder's lock and status.json say (None: they say nothing), and why."""
    if holder is not None:
        return "running", ""
    if status is not None and status.state != "running":
        return status.state, status.message
    if status is not None:  # it said running, and nothing holds the folder: it died
        return "failed", (f"the training process ({status.pid}) ended without recording why "
                          "(killed or crashed)")
    return None, ""


def run_summary(run_dir: Path) -> RunSummary:
    run_dir = Path(run_dir)
    plan = read_plan(run_dir)
    if plan is not None:
        return _study_summary(run_dir, plan)
    config = _json(run_dir / "config.json")
    checkpoint = _json(run_dir / CHECKPOINT_INFO)
    metrics = last_metrics(run_dir / "metrics.jsonl")
    status = read_status(run_dir)
    holder = lock_holder(run_dir)
    checkpoint_step = checkpoint.get("step")
    steps = int(config.get("steps", 0))
    state, message = _state(holder, status)
    if state is None:
        if checkpoint_step is not None:
            state = "finished" if steps and checkpoint_step >= steps else "stopped"
        else:
            state = "new"
    return RunSummary(
        run_dir=run_dir,
        state=state,
        step=int(metrics.get("step", checkpoint_step or 0)),
        steps=steps,
        checkpoint_step=checkpoint_step,
        last_loss=metrics.get("loss"),
        seconds=float(metrics.get("seconds", checkpoint.get("elapsed_seconds", 0.0))),
        message=message,
        config=config,
        pid=holder if holder and holder > 0 else None,
        supervisor=status.supervisor if status else None,
    )


def _study_summary(out: Path, plan: StudyPlan) -> RunSummary:
    """An ablation's folder: its own state (lock, status.json), its current variant's step
    and loss; the variants themselves in ``study``."""
    variants = [run_summary(variant_dir(out, name)) for name in plan.names]
    current = next((i for i, v in enumerate(variants) if v.state != "finished"), len(variants) - 1)
    status = read_status(out)
    holder = lock_holder(out)
    state, message = _state(holder, status)
    variant = variants[current]
    return RunSummary(
        run_dir=out,
        state=state or "new",
        step=variant.step,
        steps=variant.steps or plan.steps,  # a variant not started yet has no settings of its own
        checkpoint_step=None,  # the study has none; each variant has its own
        last_loss=variant.last_loss,
        seconds=sum(v.seconds for v in variants),
        message=message,
        config=plan.config,
        pid=holder if holder and holder > 0 else None,
        supervisor=status.supervisor if status else None,
        study=StudyProgress(plan.study, plan.labels, variants, current),
    )


def _marker(folder: Path) -> Path | None:
    """The file that makes ``folder`` a run (config.json) or an ablation (study.json)."""
    for name in (STUDY_FILE, "config.json"):
        if (folder / name).is_file():
            return folder / name
    return None


def list_runs(root: Path) -> list[RunSummary]:
    """Every run and ablation folder directly below ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    marked = [(folder, marker) for folder in root.iterdir() if (marker := _marker(folder)) is not None]
    marked.sort(key=lambda pair: pair[1].stat().st_mtime, reverse=True)
    return [run_summary(folder) for folder, _ in marked]
