"""``styler styles``: the sample styles that ship with Styler (usable by name with --style)."""

from __future__ import annotations

import argparse

from engine.resources import sample_styles


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "styles",
        help="list the sample styles (use one with --style NAME)",
        description="List the sample paintings shipped with Styler: NAME and file. "
        "`styler stylize photo.jpg --style NAME` uses one.",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    samples = sample_styles()
    width = max((len(p.stem) for p in samples), default=0)
    for path in samples:
        print(f"{path.stem:<{width}}  {path}")
    return 0
