"""Side-by-side renders of the current photo and style with 2–4 models (same photo, style,
region, sliders and seed), so a person can see which fine-tune paints better."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QWidget

CELL = 360


class CompareView(QDialog):
    def __init__(self, models: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {len(models)} models")
        self.models = models
        self.images: dict[str, QImage] = {}
        self.cells: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        for column, model in enumerate(models):
            title = QLabel(f"<b>{Path(model).parent.name}</b><br>{Path(model).name}")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setToolTip(model)
            cell = QLabel("Rendering…")
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setMinimumSize(CELL, CELL)
            grid.addWidget(title, 0, column)
            grid.addWidget(cell, 1, column)
            self.cells[model] = cell

    def show_result(self, model: str, image: QImage) -> None:
        self.images[model] = image
        self.cells[model].setPixmap(QPixmap.fromImage(image).scaled(
            CELL, CELL, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def show_error(self, model: str, message: str) -> None:
        self.cells[model].setText(message)
        self.cells[model].setWordWrap(True)
