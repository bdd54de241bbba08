"""What a run folder says about its run: state, progress, last loss, duration, settings.
Reads only small files (config.json, checkpoint.json, status.json, the last metrics line)
and the lock, so a runs list can refresh often. Never imports torch."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.train.lock import lock_holder
from engine.train.run_status import read_status

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

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def model_path(self) -> Path | None:
        path = self.run_dir / MODEL_FILE
        return path if path.is_file() else None

    @property
    def can_resume(self) -> bool:
        return self.state in ("stopped", "failed") and self.checkpoint_step is not None


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


def run_summary(run_dir: Path) -> RunSummary:
    run_dir = Path(run_dir)
    config = _json(run_dir / "config.json")
    checkpoint = _json(run_dir / CHECKPOINT_INFO)
    metrics = last_metrics(run_dir / "metrics.jsonl")
    status = read_status(run_dir)
    holder = lock_holder(run_dir)
    checkpoint_step = checkpoint.get("step")
    steps = int(config.get("steps", 0))
    message = ""
    if holder is not None:
        state: RunState = "running"
    elif status is not None and status.state != "running":
        state, message = status.state, status.message
    elif status is not None:  # it said running, and nothing holds the folder: it died
        state = "failed"
        message = (f"the training process ({status.pid}) ended without recording why "
                   "(killed or crashed)")
    elif checkpoint_step is not None:
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


def list_runs(root: Path) -> list[RunSummary]:
    """Every run folder directly below ``root`` (those with a config.json), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    folders = [p for p in root.iterdir() if (p / "config.json").is_file()]
    folders.sort(key=lambda p: (p / "config.json").stat().st_mtime, reverse=True)
    return [run_summary(p) for p in folders]
