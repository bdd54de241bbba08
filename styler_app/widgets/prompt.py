"""The prompt box: which region to stylise, what to leave out, and the mask controls."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLineEdit, QWidget
from superqt import QLabeledDoubleSlider


@dataclass(frozen=True)
class PromptState:
    everything: bool
    prompts: tuple[str, ...]
    negatives: tuple[str, ...]
    invert: bool
    threshold: float
    feather: float


def split_prompts(text: str) -> tuple[str, ...]:
    """"sky, the old tree; water" -> ("sky", "the old tree", "water")."""
    parts = text.replace(";", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


class PromptPanel(QGroupBox):
    """Signals:
    changed(): any control changed (the window debounces this into a re-preview).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Region", parent)
        self.everything = QCheckBox("Everything (no prompt)")
        self.everything.setChecked(True)
        self.prompts = QLineEdit()
        self.prompts.setPlaceholderText("e.g. sky, the old tree (comma-separated)")
        self.prompts.setClearButtonEnabled(True)
        self.negatives = QLineEdit()
        self.negatives.setPlaceholderText("leave out, e.g. people")
        self.negatives.setClearButtonEnabled(True)
        self.invert = QCheckBox("Invert (stylise everything else)")
        self.threshold = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0.05, 0.95)
        self.threshold.setValue(0.4)
        self.threshold.setToolTip("Mask probability above which a pixel belongs to the region")
        self.feather = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.feather.setRange(0.0, 32.0)
        self.feather.setValue(3.0)
        self.feather.setToolTip("The region's edge ramps over ± this many pixels of the output")

        form = QFormLayout(self)
        form.addRow(self.everything)
        form.addRow("Stylise", self.prompts)
        form.addRow("Except", self.negatives)
        form.addRow(self.invert)
        form.addRow("Threshold", self.threshold)
        form.addRow("Feather", self.feather)

        self.everything.toggled.connect(self._sync_enabled)
        # Typing stylises only when the person pauses or presses Enter.
        self.prompts.editingFinished.connect(self._text_changed)
        self.negatives.editingFinished.connect(self._text_changed)
        self.prompts.textEdited.connect(self._typing)
        for box in (self.everything, self.invert):
            box.toggled.connect(self.changed)
        self.threshold.valueChanged.connect(self.changed)
        self.feather.valueChanged.connect(self.changed)
        self._last_text = ("", "")
        self._sync_enabled()

    def _typing(self, text: str) -> None:
        if text.strip() and self.everything.isChecked():
            self.everything.setChecked(False)  # typing a prompt means "this region"

    def _text_changed(self) -> None:
        text = (self.prompts.text(), self.negatives.text())
        if text != self._last_text:
            self._last_text = text
            self.changed.emit()

    def _sync_enabled(self) -> None:
        region = not self.everything.isChecked()
        for widget in (self.prompts, self.negatives, self.invert, self.threshold, self.feather):
            widget.setEnabled(region)

    def state(self) -> PromptState:
        everything = self.everything.isChecked()
        return PromptState(
            everything=everything,
            prompts=() if everything else split_prompts(self.prompts.text()),
            negatives=() if everything else split_prompts(self.negatives.text()),
            invert=self.invert.isChecked() and not everything,
            threshold=float(self.threshold.value()),
            feather=float(self.feather.value()),
        )

    def restore(self, state: PromptState) -> None:
        blockers = [self.everything, self.invert, self.threshold, self.feather]
        for widget in blockers:
            widget.blockSignals(True)
        self.everything.setChecked(state.everything)
        self.prompts.setText(", ".join(state.prompts))
        self.negatives.setText(", ".join(state.negatives))
        self.invert.setChecked(state.invert)
        self.threshold.setValue(state.threshold)
        self.feather.setValue(state.feather)
        for widget in blockers:
            widget.blockSignals(False)
        self._last_text = (self.prompts.text(), self.negatives.text())
        self._sync_enabled()
        self.changed.emit()
