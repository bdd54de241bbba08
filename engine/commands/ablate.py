"""``styler ablate levels|loss-weights|skew``: the seed paper's ablation studies, small-scale."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands._option_types import finite_float
from engine.commands.train import add_training_options, given_settings
from engine.train.config import STUDIES, TrainConfig

# Ablations default to the seed's loss weights (λg = λl = 1) and a short budget.
_DEFAULTS = {"lambda_global": 1.0, "lambda_local": 1.0, "steps": 200, "log_every": 5,
             "save_every": 0, "sample_every": 0}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ablate",
        help="reproduce the seed paper's ablations (levels, loss weights, skewness)",
        description="Train each variant of a study with the same data and budget, then write "
        "OUT/report.md with a timing table, loss curves and a comparison grid. Running the same "
        "command again continues unfinished variants.",
    )
    p.add_argument("study", choices=STUDIES, help="which ablation")
    p.add_argument("--content", required=True, metavar="DIR", help="folder of content photos")
    p.add_argument("--style", required=True, metavar="DIR", help="folder of style images")
    p.add_argument("-o", "--output", dest="run_dir", required=True, type=Path, metavar="OUT", help="report folder")
    p.add_argument("--steps", type=int, metavar="N", help=f"steps per variant (default {_DEFAULTS['steps']})")
    p.add_argument("--lambda-global", type=finite_float, metavar="G",
                   help="global loss weight of the levels and skew studies (default 1, the seed's)")
    p.add_argument("--lambda-local", type=finite_float, metavar="L",
                   help="local loss weight of the levels and skew studies (default 1, the seed's)")
    p.add_argument("--skew-weight", type=finite_float, default=1.0, metavar="K",
                   help="λskew of the 'with skew' variant (default 1)")
    p.add_argument("--log-every", type=int, metavar="N", help="metrics interval (default 5)")
    add_training_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.train.ablate import run_study

    given = given_settings(args)
    out = Path(given.pop("run_dir"))
    base = TrainConfig(**{**_DEFAULTS, **given, "run_dir": str(out)})
    base.validate()
    run_study(args.study, base, out, skew_weight=args.skew_weight)
    return 0
