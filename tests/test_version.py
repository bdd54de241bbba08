"""One version: engine/__init__.py. The CLI prints it, and the changelog and the AppStream
metadata must have an entry for it (the wheel's metadata: tests/packaging/test_wheel.py;
the About box: tests/gui/test_launch_window.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import __version__
from engine.cli import main as cli_main
from engine.resources import metainfo

ROOT = Path(__file__).resolve().parent.parent


def test_cli_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"styler {__version__}"


def test_changelog_has_a_section_for_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[([^\]]+)\] - \d{4}-\d{2}-\d{2}$", text, flags=re.MULTILINE)
    assert releases and releases[0] == __version__, f"newest CHANGELOG release {releases[:1]} is not {__version__}"
    assert "## [Unreleased]" in text


def test_appstream_newest_release_is_this_version() -> None:
    releases = ET.parse(metainfo()).getroot().findall("./releases/release")
    assert releases and releases[0].get("version") == __version__
