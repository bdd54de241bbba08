"""The measured probe behind ``styler train --probe N``: a few real training steps at the
chosen settings, on the chosen data and device, in a scratch folder that is thrown away.
It answers, before a long run starts: seconds per step, the time the run will take, and
the peak memory (GPU memory on CUDA, the process's resident memory elsewhere)."""

from __future__ import annotations

import resource
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from engine.devices import resolve_device
from engine.train.ablate import seconds_per_step
from engine.train.config import TrainConfig
from engine.train.loop import Log, read_metrics, train

WARMUP_STEPS = 1  # first allocations and kernel choices; not timed


@dataclass
class ProbeResult:
    seconds_per_step: float
    steps: int  # timed steps
    eta_seconds: float  # for the run's remaining steps
    peak_memory_bytes: int
    memory_kind: str  # "GPU" or "process"
    device: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _process_peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def probe(config: TrainConfig, steps: int = 3, start_step: int = 0, log: Log = print) -> ProbeResult:
    device = resolve_device(config.device)
    with tempfile.TemporaryDirectory(prefix="styler-probe-") as scratch:
        trial = replace(config, run_dir=scratch, steps=WARMUP_STEPS + steps, log_every=1, save_every=0,
                        sample_every=0, compile=False)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        train(trial, log=log, keep_results=False)
        metrics = read_metrics(Path(scratch))
    per_step = seconds_per_step(metrics)
    if device.type == "cuda":
        peak, kind = torch.cuda.max_memory_allocated(device), "GPU"
    else:
        peak, kind = _process_peak_bytes(), "process"
    remaining = max(config.steps - start_step, 0)
    return ProbeResult(per_step, steps, per_step * remaining, peak, kind, str(device))
