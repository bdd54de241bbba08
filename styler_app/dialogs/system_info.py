"""System info for bug reports: versions, devices, folders, with a Copy button."""

from __future__ import annotations

from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget


def format_environment(environment: dict[str, Any], log_folder: str) -> str:
    if not environment:
        lines = ["engine: still starting (torch is loading in the background)"]
    elif "error" in environment:
        lines = [f"engine: could not be queried: {environment['error']}"]
    else:
        lines = [f"{key}: {environment[key]}" for key in ("styler", "python", "platform", "torch", "cuda", "cudnn")]
        lines.append("devices:")
        lines += [f"  {device_id}: {label}" for device_id, label in environment.get("devices", [])]
        lines += [f"styler home: {environment['styler_home']}", f"model folder: {environment['models_dir']}"]
    lines += [f"Qt: {qVersion()} (PySide6 {pyside_version})", f"log folder: {log_folder}"]
    return "\n".join(lines)


class SystemInfoDialog(QDialog):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("System info")
        self.resize(560, 360)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
