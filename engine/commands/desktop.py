"""``styler desktop install|uninstall``: Styler in the Linux application menu and in
*Open with* for images (the user's XDG folders; no root needed)."""

from __future__ import annotations

import argparse
import sys

from engine.desktop_install import data_home, install, styler_executable, uninstall
from engine.errors import StylerError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("desktop", help="add Styler to (or remove it from) the Linux desktop's menus")
    sub = p.add_subparsers(title="desktop commands", metavar="COMMAND")
    ins = sub.add_parser(
        "install",
        help="desktop entry, AppStream metadata and icons into $XDG_DATA_HOME (~/.local/share)",
    )
    ins.set_defaults(run=run_install)
    rm = sub.add_parser("uninstall", help="remove exactly what `styler desktop install` added")
    rm.set_defaults(run=run_uninstall)

    def show_help(args: argparse.Namespace) -> int:  # `styler desktop` alone: list the subcommands
        p.print_help()
        return 2

    p.set_defaults(run=show_help)


def _linux_only() -> None:
    if not sys.platform.startswith("linux"):
        raise StylerError("desktop integration is for Linux desktops; on Windows and macOS the app "
                          "bundle registers itself (see packaging/README.md)")


def run_install(args: argparse.Namespace) -> int:
    _linux_only()
    executable = styler_executable()
    written = install(executable)
    print(f"installed {len(written)} files under {data_home()}; the menu entry runs {executable}")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    _linux_only()
    removed = uninstall()
    print(f"removed {len(removed)} files from {data_home()}")
    return 0
