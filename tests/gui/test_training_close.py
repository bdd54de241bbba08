"""Closing the window while a run is going asks what to do with it, in a real message box
answered by clicking its buttons: Cancel keeps the window; Leave running closes it and the
run goes on, and a new window on the same settings re-attaches to it; Stop and save ends
the run stopped, with a checkpoint."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.train.lock import lock_holder
from engine.train.runs import process_alive, run_summary
from tests.test_train import make_init, write_images

pytestmark = pytest.mark.slow
RUN_TIMEOUT_MS = 240_000


class CloseQuestion:
    """Answers the close-window question like a person: waits for the message box to be
    shown, notes what it says, clicks the button with the given text."""

    def __init__(self, button: str) -> None:
        self.button = button
        self.text = ""
        self._timer = QTimer(interval=20)
        self._timer.timeout.connect(self._answer)
        self._timer.start()

    def _answer(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not box.isVisible():
            return
        self._timer.stop()
        self.text = f"{box.windowTitle()}: {box.text()}"
        chosen = [b for b in box.buttons() if b.text().replace("&", "") == self.button]
        (chosen or [box.button(QMessageBox.StandardButton.Cancel)])[0].click()


@pytest.fixture
def live_run(qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """A tiny run started from the window's Training panel, training (its first step logged)
    and far from its last step. Killed at the end if a failed test left it running."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    form = window.training.panel.form
    form.content_folder.setText(str(write_images(tmp_path / "content", 2, seed=1)))
    form.style_folder.setText(str(write_images(tmp_path / "style", 1, seed=2)))
    form.add_start(make_init(tmp_path / "init.safetensors"))
    for spin, value in ((form.batch_size, 1), (form.crop_size, 32), (form.load_size, 32), (form.workers, 0),
                        (form.log_every, 1), (form.save_every, 0), (form.sample_every, 0), (form.steps, 100_000)):
        spin.setValue(value)
    form.run_name.setText("left-running")
    run_dir = form.run_dir()
    window.training.panel.start_button.click()
    # Training, not just starting: its first step is logged (config.json and status are written).
    qtbot.waitUntil(lambda: run_summary(run_dir).state == "running" and run_summary(run_dir).step >= 1,
                    timeout=RUN_TIMEOUT_MS)
    yield run_dir
    summary = run_summary(run_dir)
    for pid in (summary.pid, summary.supervisor):
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]


def test_closing_asks_leave_running_reattaches_stop_saves(qtbot, window, live_run: Path, tmp_path: Path,
                                                          tiny_model: Path) -> None:  # type: ignore[no-untyped-def]
    from styler_app.main_window import MainWindow
    from styler_app.session import EngineConfig, EngineSession
    from styler_app.settings import AppSettings

    run_dir = live_run
    content = window.training.panel.form.content_folder.text()

    question = CloseQuestion("Cancel")
    assert not window.close()
    assert "left-running" in question.text and window.isVisible()
    assert window.training.panel.monitor.live and run_summary(run_dir).state == "running"

    question = CloseQuestion("Leave running")
    assert window.close()
    assert "Training is still running" in question.text
    trainer = run_summary(run_dir)
    assert trainer.state == "running" and process_alive(trainer.pid) and not (run_dir / "STOP").exists()

    # The app opened again (same settings file, same runs folder) re-attaches to the run.
    config = EngineConfig(model_path=str(tiny_model), device="cpu", style_size=64)
    again = MainWindow(AppSettings.at(tmp_path / "styler.ini"), lambda: EngineSession(config), check_models=False)
    qtbot.addWidget(again)
    again.show()
    again.start()
    panel = again.training.panel
    assert panel.monitor.live and panel.stop_button.isEnabled() and panel.live_run() == run_dir
    assert "Re-attached to left-running" in panel.message.text()
    assert panel.form.content_folder.text() == content  # the form came back too
    # It kept training while no window was open, and its curves are live in the new one.
    qtbot.waitUntil(lambda: panel.plot.point_count() > trainer.step + 1, timeout=RUN_TIMEOUT_MS)
    assert lock_holder(run_dir) == trainer.pid

    question = CloseQuestion("Stop and save")
    assert again.close()
    assert "left-running" in question.text
    qtbot.waitUntil(lambda: run_summary(run_dir).state == "stopped", timeout=RUN_TIMEOUT_MS)
    stopped = run_summary(run_dir)
    assert stopped.checkpoint_step is not None and stopped.checkpoint_step > trainer.step
    assert (run_dir / "checkpoint.pt").is_file() and not (run_dir / "STOP").exists()  # honoured
    qtbot.waitUntil(lambda: not process_alive(trainer.pid), timeout=30_000)
