"""GUI test fixtures: strict Qt logging, no leftover threads, settings in a temp folder,
a tiny random style model, and a ready main window wired to the real engine."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings, QThread

from engine.checkpoint import save_model
from engine.network import StyleNet
from tests.conftest import random_photo

# The offscreen platform reports this for every top-level window; it is not our bug.
_OFFSCREEN_NOISE = r"propagateSizeHints|QStandardPaths|This plugin does not support"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Any Qt warning fails a GUI test (like qutebrowser's qt_log_level_fail = WARNING)."""
    for item in items:
        if "tests/gui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(_OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread it started still running (napari's guard)."""
    started: list[weakref.ref[QThread]] = []
    original = QThread.start

    def tracking_start(self: QThread, *args: object) -> None:
        started.append(weakref.ref(self))
        original(self, *args)

    monkeypatch.setattr(QThread, "start", tracking_start)
    yield
    running = [t for t in (ref() for ref in started) if t is not None and t.isRunning()]
    for thread in running:  # stop them so the next test starts clean, then fail this one
        thread.wait(10_000)
    assert not running, f"test left {len(running)} QThread(s) running"


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path: Path) -> Path:
    """QSettings (INI, user scope) go to a temp folder: tests never touch real preferences."""
    folder = tmp_path / "qsettings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-size StyleNet with random weights: fast enough at ≤ 96 px previews. Seeded, so
    that every run paints the same (dark) pictures."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(20261126)
        return save_model(StyleNet(), tmp_path_factory.mktemp("gui-model") / "random.safetensors")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(3):
        random_photo(folder / f"photo{index}.jpg", (64, 48), seed=index)
    return folder


@pytest.fixture
def window(qtbot, tmp_path: Path, tiny_model: Path):  # type: ignore[no-untyped-def]
    from styler_app.main_window import MainWindow
    from styler_app.session import EngineConfig, EngineSession
    from styler_app.settings import AppSettings

    settings = AppSettings.at(tmp_path / "styler.ini")
    settings.preview_size = 64
    config = EngineConfig(model_path=str(tiny_model), device="cpu", style_size=64)
    win = MainWindow(settings, lambda: EngineSession(config), check_models=False)
    qtbot.addWidget(win)
    win.show()
    win.start()
    yield win
    win.shutdown()
