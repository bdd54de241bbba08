"""argparse types for every command's numbers and texts: a bad value is a usage error
(exit 2) naming the option, never an internal error later in the engine."""

from __future__ import annotations

import argparse
import math

# torch, numpy and Python's random all accept seeds in [0, 2**32); one range for all.
MAX_SEED = 2**32 - 1


def _number(text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def finite_float(text: str) -> float:
    return float(_number(text, float))


def positive_int(text: str) -> int:
    value = int(_number(text, int))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def unit_float(text: str) -> float:
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def seed_number(text: str) -> int:
    value = int(_number(text, int))
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SEED}, got {text}")
    return value


def prompt_text(text: str) -> str:
    """A prompt names something visible: empty or blank text would match at random."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name something, e.g. \"the sky\"; got an empty prompt")
    if len(text) > 300:
        raise argparse.ArgumentTypeError(f"is {len(text)} characters; CLIPSeg reads short phrases (under 300)")
    return text.strip()
