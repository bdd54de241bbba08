"""What the window does at start-up beyond the defaults: photos named on the command line
are open and shown, and About tells the version."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from engine import __version__
from tests.conftest import random_photo


def test_photos_named_at_start_up_are_listed_and_the_first_shown(window, photos: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loose = random_photo(tmp_path / "loose.png", (40, 30))
    window.open_paths([loose])
    assert window.browser.model.paths() == [loose]
    assert window.browser.current_path() == loose

    window.open_paths([photos])
    assert window.browser.folder == photos
    assert window.browser.current_path() == photos / "photo0.jpg"


def test_about_box_shows_the_version(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    about = next(a for a in window.menuBar().actions()[-1].menu().actions() if a.text() == "&About Styler")
    about.trigger()
    box = window.findChild(QMessageBox, "about-styler")
    assert box is not None and box.isVisible()
    assert f"Styler {__version__}" in box.text()
    box.close()
