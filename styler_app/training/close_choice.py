"""What closing the window does to a training run that is still going: stop it (the
checkpoint is saved) or leave it running (the next start re-attaches to it)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget


class CloseChoice(Enum):
    STOP = "stop"
    LEAVE_RUNNING = "leave"
    CANCEL = "cancel"


def ask_about_live_run(parent: QWidget, run_dir: Path) -> CloseChoice:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Training is still running")
    box.setText(f"The training run “{run_dir.name}” is still going.")
    box.setInformativeText(
        "Stop it now (a checkpoint is saved; Resume continues it), or leave it running: it "
        "keeps training without the window, and Styler shows it again the next time it opens."
    )
    stop = box.addButton("Stop and save", QMessageBox.ButtonRole.DestructiveRole)
    leave = box.addButton("Leave running", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(leave)
    box.exec()
    clicked = box.clickedButton()
    if clicked is stop:
        return CloseChoice.STOP
    if clicked is leave:
        return CloseChoice.LEAVE_RUNNING
    return CloseChoice.CANCEL
