"""What ``styler ARGS`` asks for: the window, the window with photos open, or a headless
subcommand.

A subcommand name or an option always means the command line, so ``styler models`` never
opens a file called ``models``; anything else must be existing photos or folders
(``styler photo.jpg``, the desktop's *Open with Styler*). The subcommand names are read from
the package without importing it: the commands import torch, which the window loads only
after it is shown."""

from __future__ import annotations

import importlib.util
import pkgutil
from dataclasses import dataclass
from pathlib import Path

from engine.image_files import IMAGE_SUFFIXES, is_image_path


class LaunchError(Exception):
    """Arguments that are neither a subcommand nor photos to open; the message says which."""


@dataclass(frozen=True)
class Launch:
    gui: bool
    paths: tuple[Path, ...] = ()


def subcommand_names() -> list[str]:
    spec = importlib.util.find_spec("engine.commands")
    locations = spec.submodule_search_locations if spec else None
    return sorted(m.name for m in pkgutil.iter_modules(locations or []) if not m.name.startswith("_"))


def decide(args: list[str]) -> Launch:
    if not args:
        return Launch(gui=True)
    if args[0].startswith("-") or args[0] in subcommand_names():
        return Launch(gui=False)
    paths = tuple(Path(arg).expanduser() for arg in args)
    for arg, path in zip(args, paths, strict=True):
        if arg.startswith("-"):
            raise LaunchError(f"{arg}: options go before a subcommand; to open photos, name only the photos")
        if not path.exists():
            if len(args) == 1 and not path.suffix:
                raise LaunchError(
                    f"'{arg}' is neither a subcommand nor an existing file or folder "
                    f"(subcommands: {', '.join(subcommand_names())}; see styler --help)"
                )
            raise LaunchError(f"{arg}: no such file or folder")
        if not path.is_dir() and not is_image_path(path):
            raise LaunchError(
                f"{arg}: not an image Styler opens (it opens {', '.join(sorted(IMAGE_SUFFIXES))} files and folders)"
            )
    return Launch(gui=True, paths=tuple(p.resolve() for p in paths))
