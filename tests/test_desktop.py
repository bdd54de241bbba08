"""Linux desktop integration: the shipped AppStream metadata and desktop entry validate with
the freedesktop tools, and `styler desktop install|uninstall` puts them (and the icons) into
the user's XDG folders and takes exactly them away again.

The validators come from Debian's `appstream` and `desktop-file-utils` packages; .ci/run
installs them. On a developer machine without them these checks skip, in CI they fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main as cli_main
from engine.desktop_install import install, planned_files, uninstall
from engine.resources import APP_ID, metainfo


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{name} not installed (Debian: appstream, desktop-file-utils)")
    return found


def validate(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_shipped_metainfo_validates() -> None:
    out = validate(tool("appstreamcli"), "validate", "--no-net", "--explain", str(metainfo()))
    assert "Validation was successful" in out


def test_install_then_uninstall_in_xdg_data_home(tmp_path: Path) -> None:
    root = tmp_path / "root"
    home = root / "usr" / "share"  # laid out like a system tree, so validate-tree can check it whole
    executable = tmp_path / "my apps" / "styler"  # a space: Exec= must quote it

    written = install(executable, home)

    assert set(written) == set(planned_files(home)) and all(p.is_file() for p in written)
    entry = home / "applications" / f"{APP_ID}.desktop"
    text = entry.read_text()
    assert f'Exec="{executable}" %F\n' in text and f"TryExec={executable}\n" in text
    assert (home / "icons" / "hicolor" / "48x48" / "apps" / "styler.png").is_file()
    validate(tool("desktop-file-validate"), str(entry))
    validate(tool("appstreamcli"), "validate-tree", "--no-net", str(root))
    if shutil.which("update-desktop-database"):  # Open with Styler: the MIME cache names the entry
        cache = (home / "applications" / "mimeinfo.cache").read_text()
        assert f"image/jpeg={APP_ID}.desktop" in cache

    removed = uninstall(home)

    assert set(removed) == set(written)
    assert not any(p.exists() for p in written)
    assert uninstall(home) == []  # a second uninstall has nothing left to remove


def test_cli_installs_for_the_running_styler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    styler = tmp_path / "venv" / "bin" / "styler"
    styler.parent.mkdir(parents=True)
    styler.write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "argv", [str(styler), "desktop", "install"])
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    assert cli_main(["desktop", "install"]) == 0
    entry = tmp_path / "data" / "applications" / f"{APP_ID}.desktop"
    assert f"Exec={styler} %F" in entry.read_text()
    assert "installed 12 files" in capsys.readouterr().out

    assert cli_main(["desktop", "uninstall"]) == 0
    assert not entry.exists()
