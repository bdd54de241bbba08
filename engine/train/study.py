"""OUT/study.json: what an ablation folder holds, written when ``styler ablate`` starts.

It marks the folder as a study (the runs list and the app find studies by it), names the
variants in order (each an ordinary run folder, OUT/runs/<name>) and keeps the settings
that ``styler ablate --resume -o OUT`` continues with. The study's own state lives beside
it as for a run: OUT/.lock while its process lives, OUT/status.json for how it ended.
Never imports torch."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import write_atomically

STUDY_FILE = "study.json"
VARIANTS_DIR = "runs"  # OUT/runs/<variant>


@dataclass
class StudyPlan:
    study: str  # levels, loss-weights or skew
    names: list[str]  # variant folder names under OUT/runs, in training order
    labels: list[str]  # how the report and the app name them
    skew_weight: float = 1.0  # λskew of the skew study's "with skew" variant
    config: dict[str, Any] = field(default_factory=dict)  # the base TrainConfig every variant starts from

    @property
    def steps(self) -> int:
        return int(self.config.get("steps", 0))


def variant_dir(out: Path, name: str) -> Path:
    return Path(out) / VARIANTS_DIR / name


def write_plan(out: Path, plan: StudyPlan) -> None:
    text = json.dumps(asdict(plan), indent=2)
    write_atomically(Path(out) / STUDY_FILE, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_plan(out: Path) -> StudyPlan | None:
    """The study in ``out``, or None when it holds none (or its file is unreadable)."""
    try:
        data = json.loads((Path(out) / STUDY_FILE).read_text(encoding="utf-8"))
        plan = StudyPlan(**data)
    except (OSError, ValueError, TypeError):
        return None
    if len(plan.names) != len(plan.labels) or not plan.names:
        return None
    return plan
