"""``styler ablate levels|loss-weights|skew``: the seed paper's ablation studies, small-scale."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands._option_types import finite_float
from engine.commands.train import add_training_options, given_settings
from engine.errors import StylerError
from engine.train.config import STUDIES, TrainConfig, merge_for_resume

# Ablations default to the seed's loss weights (λg = λl = 1) and a short budget.
_DEFAULTS = {"lambda_global": 1.0, "lambda_local": 1.0, "steps": 200, "log_every": 5,
             "save_every": 0, "sample_every": 0}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ablate",
        help="reproduce the seed paper's ablations (levels, loss weights, skewness)",
        description="Train each variant of a study with the same data and budget, then write "
        "OUT/report.md with a timing table, loss curves and a comparison grid. Ctrl-C or creating "
        "OUT/STOP stops the variant training (checkpoint saved) and the study; --resume (or the "
        "same command again) continues it.",
    )
    p.add_argument("study", nargs="?", choices=STUDIES, help="which ablation (may be left out with --resume)")
    p.add_argument("--content", metavar="DIR", help="folder of content photos")
    p.add_argument("--style", metavar="DIR", help="folder of style images")
    p.add_argument("-o", "--output", dest="run_dir", required=True, type=Path, metavar="OUT", help="report folder")
    p.add_argument("--steps", type=int, metavar="N", help=f"steps per variant (default {_DEFAULTS['steps']})")
    p.add_argument("--lambda-global", type=finite_float, metavar="G",
                   help="global loss weight of the levels and skew studies (default 1, the seed's)")
    p.add_argument("--lambda-local", type=finite_float, metavar="L",
                   help="local loss weight of the levels and skew studies (default 1, the seed's)")
    p.add_argument("--skew-weight", type=finite_float, metavar="K",
                   help="λskew of the 'with skew' variant (default 1)")
    p.add_argument("--log-every", type=int, metavar="N", help="metrics interval (default 5)")
    add_training_options(p)
    p.add_argument("--resume", action="store_true",
                   help="continue the ablation in OUT: the stopped variant from its checkpoint, then the "
                   "variants not run (other options may be left out)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.train.ablate import run_study
    from engine.train.study import read_plan

    given = given_settings(args)
    out = Path(given.pop("run_dir"))
    if args.resume:
        plan = read_plan(out)
        if plan is None:
            raise StylerError(f"{out}: no study.json; not an ablation folder (nothing to resume)")
        for option, value, saved in (("study", args.study, plan.study), ("--skew-weight", args.skew_weight, plan.skew_weight)):
            if value is not None and value != saved:
                raise StylerError(f"--resume: {option} was {saved!r} in this ablation, {value!r} now; "
                                  "changing it would not continue the same study")
        base = merge_for_resume(TrainConfig.from_dict(plan.config), given)
        study, skew_weight = plan.study, plan.skew_weight
    else:
        missing = [name for name, value in (("STUDY", args.study), ("--content", args.content),
                                            ("--style", args.style)) if value is None]
        if missing:
            raise StylerError(f"{' and '.join(missing)} required (unless --resume continues an ablation)")
        base = TrainConfig(**{**_DEFAULTS, **given, "run_dir": str(out)})
        study, skew_weight = args.study, 1.0 if args.skew_weight is None else args.skew_weight
    base.validate()
    run_study(study, base, out, skew_weight=skew_weight)
    return 0
