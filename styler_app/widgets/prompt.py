"""The prompt box: which region to stylise, what to leave out, and the mask controls,
bound to the window's ``RenderSettings`` (prompts, negatives, invert, threshold, feather)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLineEdit, QWidget
from superqt import QLabeledDoubleSlider

from engine.options import RenderOptions
from styler_app.render_settings import RenderSettings


def split_prompts(text: str) -> tuple[str, ...]:
    """"sky, the old tree; water" -> ("sky", "the old tree", "water")."""
    parts = text.replace(";", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


class PromptPanel(QGroupBox):
    """Writes every control into ``settings`` as it changes, and follows ``settings`` when
    someone else changes it (a history entry restored)."""

    def __init__(self, settings: RenderSettings, parent: QWidget | None = None) -> None:
        super().__init__("Region", parent)
        self.settings = settings
        defaults = settings.options
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
        self.threshold.setValue(defaults.threshold)
        self.threshold.setToolTip("Mask probability above which a pixel belongs to the region")
        self.feather = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.feather.setRange(0.0, 32.0)
        self.feather.setValue(defaults.feather)
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
            box.toggled.connect(self._write)
        self.threshold.valueChanged.connect(self._write)
        self.feather.valueChanged.connect(self._write)
        settings.changed.connect(self._follow)
        self._last_text = ("", "")
        self._sync_enabled()

    def _typing(self, text: str) -> None:
        if text.strip() and self.everything.isChecked():
            self.everything.setChecked(False)  # typing a prompt means "this region"

    def _text_changed(self) -> None:
        text = (self.prompts.text(), self.negatives.text())
        if text != self._last_text:
            self._last_text = text
            self._write()

    def _sync_enabled(self) -> None:
        region = not self.everything.isChecked()
        for widget in (self.prompts, self.negatives, self.invert, self.threshold, self.feather):
            widget.setEnabled(region)

    def _read(self) -> dict[str, Any]:
        """What the controls say, as RenderOptions fields."""
        everything = self.everything.isChecked()
        return {
            "prompts": () if everything else split_prompts(self.prompts.text()),
            "negatives": () if everything else split_prompts(self.negatives.text()),
            "invert": self.invert.isChecked() and not everything,
            "threshold": float(self.threshold.value()),
            "feather": float(self.feather.value()),
        }

    def _write(self) -> None:
        self.settings.update(**self._read())

    def _follow(self, options: RenderOptions) -> None:
        """Show ``options`` unless the controls already say the same (then they are the source)."""
        wanted = {name: getattr(options, name) for name in self._read()}
        if wanted == self._read():
            return
        controls = [self.everything, self.invert, self.threshold, self.feather]
        for widget in controls:
            widget.blockSignals(True)
        self.everything.setChecked(not options.uses_region)
        self.prompts.setText(", ".join(options.prompts))
        self.negatives.setText(", ".join(options.negatives))
        self.invert.setChecked(options.invert)
        self.threshold.setValue(options.threshold)
        self.feather.setValue(options.feather)
        for widget in controls:
            widget.blockSignals(False)
        self._last_text = (self.prompts.text(), self.negatives.text())
        self._sync_enabled()
