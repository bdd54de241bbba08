"""The Training panel's presets: a fine-tune recipe, the seed paper's setting, and the seed's
three ablations (which run ``styler ablate`` instead of ``styler train``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    values: dict[str, Any] = field(default_factory=dict)  # TrainingForm field -> value
    study: str | None = None  # an ablation study: launches `styler ablate STUDY`


PRESETS = (
    Preset("Quick fine-tune on my paintings", {
        "steps": 2000, "batch_size": 4, "crop_size": 256, "load_size": 512, "lambda_global": 10.0,
        "lambda_local": 3.0, "lambda_skew": 0.0, "levels": (3, 4, 5), "precision": "auto"}),
    Preset("Seed paper (λg = λl = 1)", {
        "steps": 55000, "batch_size": 4, "crop_size": 512, "load_size": 512, "lambda_global": 1.0,
        "lambda_local": 1.0, "lambda_skew": 0.0, "levels": (3, 4, 5), "precision": "auto"}),
    Preset("Ablation: AdaAttN levels (3,4,5 · without 4 · without 5)",
           {"steps": 200, "lambda_global": 1.0, "lambda_local": 1.0}, study="levels"),
    Preset("Ablation: loss weights (λg:λl from 1:0 to 0:1)", {"steps": 200}, study="loss-weights"),
    Preset("Ablation: skewness term (without · with)",
           {"steps": 200, "lambda_global": 1.0, "lambda_local": 1.0}, study="skew"),
)
