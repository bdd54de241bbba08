"""Subcommands of ``styler``: every module here exposes ``register(subparsers)``.

Modules are discovered, so adding a subcommand is adding a file."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable

# The two every user meets first lead the help; the rest follow alphabetically.
_FIRST = ("stylize", "models")


def _discover() -> tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    ordered = [n for n in _FIRST if n in names] + [n for n in names if n not in _FIRST]
    return tuple(importlib.import_module(f"{__name__}.{name}").register for name in ordered)


COMMANDS = _discover()
