"""The preview pane: the canvas plus its controls (before/after, mask, brush, zoom)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledSlider

from styler_app.widgets.canvas import PreviewCanvas


class PreviewPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = PreviewCanvas()

        self.split = QSlider(Qt.Orientation.Horizontal)
        self.split.setRange(0, 100)
        self.split.setValue(0)
        self.split.setToolTip("Drag to compare: left of the line is the original photo")
        self.split.valueChanged.connect(lambda v: self.canvas.set_split(v / 100))
        self.canvas.set_split(0.0)
        self.show_mask = QCheckBox("Mask")
        self.show_mask.setToolTip("Show the region being stylised (M)")
        self.show_mask.toggled.connect(self.canvas.set_show_mask)
        self.fit_button = QToolButton(text="Fit")
        self.fit_button.clicked.connect(self.canvas.zoom_fit)
        self.actual_button = QToolButton(text="100%")
        self.actual_button.clicked.connect(lambda: self.canvas.zoom_to(1.0))
        self.zoom_label = QLabel("fit")
        self.zoom_label.setToolTip("Zoom (Ctrl+0 fit, Ctrl+1 100 %, Ctrl± or the wheel)")
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Wide enough for the widest zoom text, so the row does not jump or clip while zooming.
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("1600%") + 4)
        self.canvas.zoom_changed.connect(lambda s: self.zoom_label.setText(f"{s:.0%}"))
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 6, 2)
        top.addWidget(QLabel("Before"))
        top.addWidget(self.split, 1)
        top.addWidget(QLabel("After"))
        top.addSpacing(12)
        top.addWidget(self.show_mask)
        top.addSpacing(12)
        top.addWidget(self.fit_button)
        top.addWidget(self.actual_button)
        top.addWidget(self.zoom_label)

        self.brush_off = QToolButton(text="Pan", checkable=True, checked=True)
        self.brush_add = QToolButton(text="Brush +", checkable=True)
        self.brush_erase = QToolButton(text="Brush −", checkable=True)
        self.brush_add.setToolTip("Paint onto the mask: add to the stylised region (B)")
        self.brush_erase.setToolTip("Paint onto the mask: remove from the stylised region (E)")
        self.select = QToolButton(text="Select", checkable=True)
        self.set_select_available(False)
        self.tools = QButtonGroup(self)
        for button, mode in ((self.brush_off, ""), (self.brush_add, "add"), (self.brush_erase, "erase"),
                             (self.select, "select")):
            self.tools.addButton(button)
            button.toggled.connect(lambda on, mode=mode: self._set_mode(mode) if on else None)
        self.brush_size = QLabeledSlider(Qt.Orientation.Horizontal)
        self.brush_size.setRange(2, 200)
        self.brush_size.setValue(24)
        self.brush_size.setMinimumWidth(70)
        self.brush_size.setToolTip("Brush diameter in preview pixels")
        self.brush_size.valueChanged.connect(lambda v: setattr(self.canvas, "brush_size", float(v)))
        self.softness = QLabeledSlider(Qt.Orientation.Horizontal)
        self.softness.setRange(0, 100)
        self.softness.setValue(50)
        self.softness.setMinimumWidth(70)
        self.softness.setToolTip("Brush edge softness (0 = hard edge)")
        self.softness.valueChanged.connect(lambda v: setattr(self.canvas, "brush_softness", v / 100))
        self.reset_mask = QPushButton("Reset mask")
        self.reset_mask.setToolTip("Back to the prompt's mask (undoable)")
        bottom = QHBoxLayout()
        bottom.setContentsMargins(4, 2, 6, 2)
        for widget in (self.brush_off, self.select, self.brush_add, self.brush_erase):
            bottom.addWidget(widget)
        bottom.addWidget(QLabel("Size"))
        bottom.addWidget(self.brush_size, 1)
        bottom.addWidget(QLabel("Softness"))
        bottom.addWidget(self.softness, 1)
        bottom.addWidget(self.reset_mask)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.progress)
        layout.addLayout(bottom)

    def set_select_available(self, available: bool) -> None:
        """Click-to-select needs SAM 2; without it the button says how to get it."""
        self.select.setEnabled(available)
        self.select.setToolTip(
            "Click adds the object under the cursor to the region (SAM 2); Shift- or Alt-click "
            "removes one (S)" if available else
            "Click to select objects needs SAM 2: `styler models download sam2` (or import it)"
        )

    def _set_mode(self, mode: str) -> None:
        self.canvas.brush_mode = mode
        if mode:
            self.show_mask.setChecked(True)  # brushing blind would be guesswork
        self.canvas.setCursor(Qt.CursorShape.CrossCursor if mode else Qt.CursorShape.ArrowCursor)
