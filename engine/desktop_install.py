"""Linux desktop integration: the desktop entry, AppStream metadata and icons copied from the
package into the user's XDG data folder (``$XDG_DATA_HOME``, default ``~/.local/share``), so
Styler shows up in the application menu and in *Open with* for images; and removed again.

The installed desktop entry runs the ``styler`` that installed it, by absolute path, so it
works for a virtual environment or a one-folder app that is not on ``PATH``."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import platformdirs

from engine.atomic import write_atomically
from engine.errors import StylerError
from engine.resources import APP_ID, ICON_NAME, ICON_SIZES, desktop_entry, icon_png, icon_svg, metainfo


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``."""
    return platformdirs.user_data_path()


def styler_executable() -> Path:
    """The ``styler`` program running now: the one-folder app's binary, or the console script."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).absolute()
    launched = Path(sys.argv[0])
    if launched.name == "styler" and launched.is_file():
        return launched.absolute()
    found = shutil.which("styler")
    if found is None:
        raise StylerError("cannot find the `styler` program; run `styler desktop install` from the installed Styler")
    return Path(found).absolute()


def desktop_entry_text(executable: Path) -> str:
    """The shipped entry with ``Exec``/``TryExec`` pointing at ``executable``."""
    lines = []
    for line in desktop_entry().read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={_quoted(executable)} %F"
        elif line.startswith("TryExec="):
            line = f"TryExec={executable}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _quoted(path: Path) -> str:
    # Desktop Entry spec: an argument with spaces is double-quoted; ", `, $ and \ are escaped.
    text = str(path)
    if not any(c in text for c in ' \t"`$\\'):
        return text
    return '"' + "".join("\\" + c if c in '"`$\\' else c for c in text) + '"'


def planned_files(home: Path) -> dict[Path, Path | None]:
    """Destination -> source file (None: the desktop entry, which is rewritten)."""
    files: dict[Path, Path | None] = {
        home / "applications" / f"{APP_ID}.desktop": None,
        home / "metainfo" / f"{APP_ID}.metainfo.xml": metainfo(),
        home / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg": icon_svg(),
    }
    for size in ICON_SIZES:
        files[home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"] = icon_png(size)
    return files


def _write_bytes(tmp: str, payload: bytes) -> None:
    Path(tmp).write_bytes(payload)


def install(executable: Path, home: Path | None = None) -> list[Path]:
    """Copy every file (atomically) and refresh the desktop's caches; returns what was written."""
    home = home or data_home()
    written = []
    for destination, source in planned_files(home).items():
        payload = desktop_entry_text(executable).encode("utf-8") if source is None else source.read_bytes()
        write_atomically(destination, functools.partial(_write_bytes, payload=payload))
        written.append(destination)
    refresh_caches(home)
    return written


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove exactly the files ``install`` writes; returns those that were there."""
    home = home or data_home()
    removed = []
    for destination in planned_files(home):
        if destination.exists():
            destination.unlink()
            removed.append(destination)
    refresh_caches(home)
    return removed


def refresh_caches(home: Path) -> None:
    """Tell the desktop about the change where its tools exist (absent ones are not an error:
    most desktops also watch these folders)."""
    commands = (
        ["update-desktop-database", "-q", str(home / "applications")],
        ["gtk-update-icon-cache", "-q", "-t", "-f", str(home / "icons" / "hicolor")],
    )
    for command in commands:
        if shutil.which(command[0]) and Path(command[-1]).is_dir():
            subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "LC_ALL": "C"})
