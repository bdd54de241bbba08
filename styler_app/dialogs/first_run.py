"""First run without models: what is missing, a download button with a progress bar for
each, and "Import from disk…". Non-modal, so browsing and adding styles still work."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from styler_app.requests import MissingModel


class FirstRunDialog(QDialog):
    """Signals:
    install_requested(str): download and install this model name.
    import_requested(str): import this file or folder.
    cancel_requested(str): stop this model's download (kept for resuming).
    """

    install_requested = Signal(str)
    import_requested = Signal(str)
    cancel_requested = Signal(str)

    def __init__(self, missing: list[MissingModel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Get the models")
        self.setModal(False)
        intro = QLabel(
            "Styler needs a style model to paint (and CLIPSeg to understand prompts). "
            "Download them here, or import files you already have. You can keep browsing "
            "photos and adding styles meanwhile."
        )
        intro.setWordWrap(True)
        grid = QGridLayout()
        self._bars: dict[str, QProgressBar] = {}
        self._buttons: dict[str, QPushButton] = {}
        self._busy: set[str] = set()
        for row, model in enumerate(missing):
            # Plain labels stacked: a two-line rich-text label was given one line's height.
            label = QWidget()
            label_layout = QVBoxLayout(label)
            label_layout.setContentsMargins(0, 0, 0, 0)
            label_layout.setSpacing(0)
            title = QLabel(f"<b>{model.title}</b>")
            details = QLabel(f"{model.size_text} · {model.license}")
            details.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # dimmed in light and dark
            for text in (title, details):
                text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                label_layout.addWidget(text)
            label.setToolTip(f"Without internet: {model.manual}")
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setFormat("not installed")
            button = QPushButton("Download")
            button.clicked.connect(lambda checked=False, name=model.name: self._toggle(name))
            grid.addWidget(label, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(button, row, 2)
            self._bars[model.name], self._buttons[model.name] = bar, button
        grid.setColumnStretch(1, 1)

        self.import_button = QPushButton("Import from disk…")
        menu = QMenu(self.import_button)
        menu.addAction("A file (model, release zip, VGG weights)…", self._import_file)
        menu.addAction("A folder (release checkpoints, CLIPSeg)…", self._import_folder)
        self.import_button.setMenu(menu)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumWidth(620)
        self.adjustSize()

    def _toggle(self, name: str) -> None:
        if name in self._busy:
            self.cancel_requested.emit(name)
        else:
            self.install_requested.emit(name)

    def offered(self) -> list[str]:
        """The models this dialog offers to download."""
        return list(self._buttons)

    def set_busy(self, name: str, busy: bool) -> None:
        if name not in self._buttons:
            return
        (self._busy.add if busy else self._busy.discard)(name)
        self._buttons[name].setText("Cancel" if busy else "Download")

    def set_progress(self, name: str, fraction: float, text: str) -> None:
        if name in self._bars:
            self._bars[name].setValue(int(fraction * 1000))
            self._bars[name].setFormat(text)

    def set_installed(self, name: str) -> None:
        if name in self._bars:
            self.set_busy(name, False)
            self._bars[name].setValue(1000)
            self._bars[name].setFormat("installed")
            self._buttons[name].setEnabled(False)

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def _import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a model file")
        if path:
            self.import_requested.emit(path)

    def _import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a model folder")
        if folder:
            self.import_requested.emit(folder)
