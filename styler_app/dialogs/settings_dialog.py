"""Preferences: device, precision, preview size, output folder and name template, models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from engine.errors import StylerError
from engine.naming import check_name_template
from styler_app.settings import PREVIEW_SIZES, AppSettings

PRECISIONS = (
    ("auto", "Automatic (float32)"), ("fp32", "float32"), ("bf16", "bfloat16 (faster on recent GPUs)"), ("fp16", "float16 (GPU only)"),
)


def _with_browse(edit: QLineEdit, choose: Callable[[], None]) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(choose)
    row.addWidget(button)
    return box


class SettingsDialog(QDialog):
    """Edits an AppSettings (and the engine's shared model folder) when accepted.
    ``devices`` are (id, label) pairs from the worker's environment report."""

    def __init__(self, settings: AppSettings, devices: list[tuple[str, str]], models_folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.device = QComboBox()
        self.device.addItem("Automatic (best available)", "auto")
        for device_id, label in devices:
            self.device.addItem(label, device_id)
        if not devices:
            self.device.addItem("CPU", "cpu")
            self.device.setToolTip("GPUs are listed once the engine has started")
        self._select(self.device, settings.device)
        self.precision = QComboBox()
        for value, label in PRECISIONS:
            self.precision.addItem(label, value)
        self._select(self.precision, settings.precision)
        self.preview_size = QComboBox()
        for size in PREVIEW_SIZES:
            self.preview_size.addItem(f"{size} px", size)
        self._select(self.preview_size, settings.preview_size)
        self.output_folder = QLineEdit(settings.output_folder)
        self.output_folder.setPlaceholderText("next to each photo")
        self.name_template = QLineEdit(settings.name_template)
        self.name_template.setToolTip("Fields: {stem} {ext} {style} {prompt} {index}")
        self.name_problem = QLabel()  # why the template cannot be used, shown on OK
        self.name_problem.setWordWrap(True)
        self.name_problem.setStyleSheet("color: #c0392b")
        self.name_problem.hide()
        self.model_path = QLineEdit(settings.model_path)
        self.model_path.setPlaceholderText("the installed default model")
        self.models_folder = QLineEdit(models_folder)

        form = QFormLayout(self)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("Preview size", self.preview_size)
        form.addRow("Output folder", _with_browse(self.output_folder, self._choose_output))
        form.addRow("File name", self.name_template)
        form.addRow("", self.name_problem)
        form.addRow("Style model file", _with_browse(self.model_path, self._choose_model))
        form.addRow("Model folder", _with_browse(self.models_folder, self._choose_models_folder))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(560)  # paths and model names stay readable

    @staticmethod
    def _select(combo: QComboBox, value: object) -> None:
        index = combo.findData(value)
        if index < 0 and isinstance(value, str):
            combo.addItem(value, value)  # e.g. a GPU that is not present right now
            index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))

    def _choose_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Default output folder", self.output_folder.text())
        if folder:
            self.output_folder.setText(folder)

    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style model", self.model_path.text(), "Styler models (*.safetensors)")
        if path:
            self.model_path.setText(path)

    def _choose_models_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", self.models_folder.text())
        if folder:
            self.models_folder.setText(folder)

    def accept(self) -> None:
        """OK: refused, with the reason under the field, while the file name cannot name files."""
        template = self.name_template.text().strip()
        try:
            if template:
                check_name_template(template)
        except StylerError as problem:
            self.name_problem.setText(f"{problem}.")
            self.name_problem.show()
            self.name_template.setFocus()
            return
        super().accept()

    def apply(self) -> None:
        """Write the choices into the settings (called after ``exec()`` returns Accepted)."""
        s = self.settings
        s.device = str(self.device.currentData())
        s.precision = str(self.precision.currentData())
        s.preview_size = int(self.preview_size.currentData())
        s.output_folder = self.output_folder.text().strip()
        s.name_template = self.name_template.text().strip()
        s.model_path = self.model_path.text().strip()
        s.sync()

    def chosen_models_folder(self) -> Path | None:
        text = self.models_folder.text().strip()
        return Path(text).expanduser() if text else None
