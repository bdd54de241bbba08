"""Subcommands of ``styler``; each module exposes ``register(subparsers)``."""

from engine.commands import models, stylize

COMMANDS = (stylize.register, models.register)
