"""The one rule every writer obeys: no input is ever an output target.

Content photos, the style image, masks and model files are the user's own files. The CLI
(stylize, segment, batch), the batch planner and the app's save paths all ask
``refuse_input_targets`` before any work starts, with or without ``--overwrite``. Two paths
are the same file when they resolve to the same place (symlinks, ``..``, letter case on
case-insensitive systems) or are the same inode (hard links)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from engine.errors import StylerError

# (what the input is, e.g. "style image"; where it is)
NamedInput = tuple[str, Path]


class InputOverwriteError(StylerError):
    """An output path names one of the inputs."""


def _name_key(path: Path) -> str:
    # realpath never raises (a symlink loop stays as it is), unlike Path.resolve on 3.11
    return os.path.normcase(os.path.realpath(path))


def _inode_key(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.st_dev, stat.st_ino


def refuse_input_targets(outputs: Iterable[Path], inputs: Iterable[NamedInput], choose: str = "-o") -> None:
    """Raise InputOverwriteError when any of ``outputs`` is one of ``inputs``; ``choose``
    names what the user should change (an option, a dialog's file name)."""
    by_name: dict[str, NamedInput] = {}
    by_inode: dict[tuple[int, int], NamedInput] = {}
    for role, path in inputs:
        by_name[_name_key(path)] = (role, path)
        inode = _inode_key(path)
        if inode is not None:
            by_inode[inode] = (role, path)
    for output in outputs:
        hit = by_name.get(_name_key(output))
        if hit is None:
            inode = _inode_key(output)
            hit = by_inode.get(inode) if inode is not None else None
        if hit is not None:
            role, path = hit
            same = "" if Path(output) == path else f" ({path})"
            raise InputOverwriteError(
                f"{output}: would overwrite an input (the {role}{same}); inputs are never "
                f"overwritten, even with --overwrite: choose another {choose}"
            )
