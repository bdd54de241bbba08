"""The Training panel's settings: folders, starting point, steps, sizes, loss weights,
levels, precision, device and run name, turned into ``styler train`` / ``styler ablate``
arguments. Knows nothing about processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from styler_app.training.presets import PRESETS, Preset

LEVELS = (3, 4, 5)
# Fields kept between sessions by name (see ``state``), besides preset, start, levels, device.
TEXTS = ("content_folder", "style_folder", "runs_root", "run_name")
NUMBERS = ("steps", "batch_size", "crop_size", "load_size", "lambda_global", "lambda_local", "lambda_skew",
           "workers", "save_every", "sample_every", "log_every")


def _folder_row(edit: QLineEdit, title: str) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    browse = QPushButton("…")
    browse.setFixedWidth(28)
    browse.setToolTip(f"Choose the {title.lower()}")

    def choose() -> None:
        folder = QFileDialog.getExistingDirectory(row, title, edit.text())
        if folder:
            edit.setText(folder)

    browse.clicked.connect(choose)
    layout.addWidget(browse)
    return row


class TrainingForm(QWidget):
    preset_chosen = Signal(object)  # Preset

    def __init__(self, runs_root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset = QComboBox()
        for preset in PRESETS:
            self.preset.addItem(preset.name, preset)
        self.runs_root = QLineEdit(str(runs_root))
        self.run_name = QLineEdit("my-fine-tune")
        self.content_folder = QLineEdit()
        self.content_folder.setPlaceholderText("folder of photos")
        self.style_folder = QLineEdit()
        self.style_folder.setPlaceholderText("folder of paintings")
        self.gallery_styles = QCheckBox("Use the styles in my gallery instead")
        self.start_from = QComboBox()
        self.start_from.setToolTip("A model to fine-tune, or an encoder to train from scratch on")
        add_start = QPushButton("…")
        add_start.setFixedWidth(28)
        add_start.setToolTip("Fine-tune another Styler model (.safetensors) or train from scratch on a VGG encoder (.pth)")
        add_start.clicked.connect(self._choose_start)
        start_row = QWidget()
        start_layout = QHBoxLayout(start_row)
        start_layout.setContentsMargins(0, 0, 0, 0)
        start_layout.addWidget(self.start_from, 1)
        start_layout.addWidget(add_start)

        self.steps = QSpinBox(minimum=1, maximum=10_000_000, value=2000)
        self.batch_size = QSpinBox(minimum=1, maximum=512, value=4)
        self.crop_size = QSpinBox(minimum=16, maximum=2048, singleStep=16, value=256)
        self.load_size = QSpinBox(minimum=16, maximum=4096, singleStep=16, value=512)
        self.lambda_global = QDoubleSpinBox(minimum=0, maximum=1000, value=10.0, decimals=3)
        self.lambda_local = QDoubleSpinBox(minimum=0, maximum=1000, value=3.0, decimals=3)
        self.lambda_skew = QDoubleSpinBox(minimum=0, maximum=1000, value=0.0, decimals=3)
        self.level_boxes = {level: QCheckBox(str(level)) for level in LEVELS}
        levels_row = QWidget()
        levels_layout = QHBoxLayout(levels_row)
        levels_layout.setContentsMargins(0, 0, 0, 0)
        for box in self.level_boxes.values():
            box.setChecked(True)
            levels_layout.addWidget(box)
        levels_layout.addStretch(1)
        self.precision = QComboBox()
        self.precision.addItems(["auto", "fp32", "bf16", "fp16"])
        self.device = QComboBox()
        self._wanted_device: str | None = None  # restored before the engine has listed the GPUs
        self._devices: list[tuple[str, str]] = []
        self.set_devices([])
        self.workers = QSpinBox(minimum=0, maximum=64, value=2)
        self.save_every = QSpinBox(minimum=0, maximum=1_000_000, value=500)
        self.sample_every = QSpinBox(minimum=0, maximum=1_000_000, value=100)
        self.log_every = QSpinBox(minimum=1, maximum=100_000, value=10)

        form = QFormLayout(self)
        form.addRow("Preset", self.preset)
        form.addRow("Content photos", _folder_row(self.content_folder, "Content folder"))
        form.addRow("Style images", _folder_row(self.style_folder, "Style folder"))
        form.addRow("", self.gallery_styles)
        form.addRow("Start from", start_row)
        form.addRow("Steps", self.steps)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Crop / load size", self._pair(self.crop_size, self.load_size))
        form.addRow("λ global / local", self._pair(self.lambda_global, self.lambda_local))
        form.addRow("λ skew", self.lambda_skew)
        form.addRow("AdaAttN levels", levels_row)
        form.addRow("Precision", self.precision)
        form.addRow("Device", self.device)
        form.addRow("Loader workers", self.workers)
        form.addRow("Checkpoint / sample every", self._pair(self.save_every, self.sample_every))
        form.addRow("Log every", self.log_every)
        form.addRow("Runs folder", _folder_row(self.runs_root, "Runs folder"))
        form.addRow("Run name", self.run_name)
        self.preset.currentIndexChanged.connect(lambda _: self.apply_preset(self.preset.currentData()))

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(a)
        layout.addWidget(b)
        return row

    # ------------------------------------------------------------------ choices

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """``devices``: (value, name) as the engine environment lists them."""
        self._devices = devices
        current = self._wanted_device or self.device.currentData()
        self.device.clear()
        self.device.addItem("Automatic (a GPU if there is one)", "auto")
        for value, name in devices:
            label = f"{name} — slow: expect hours for a few thousand steps" if value == "cpu" else name
            self.device.addItem(label, value)
        if current is not None and self.device.findData(current) >= 0:
            self.device.setCurrentIndex(self.device.findData(current))
            self._wanted_device = None

    def set_start_models(self, models: list[tuple[str, Path]], default: Path | None = None) -> None:
        """Models to fine-tune, as (label, path). The start chosen so far stays chosen (added
        again if it is a file of its own); otherwise ``default`` is selected."""
        kept = self.start_from.currentData()
        self.start_from.clear()
        for label, path in models:
            self.start_from.addItem(label, ("init", str(path)))
        if kept is not None:
            self.choose_start(kept)
            if self.start_from.currentData() == kept:
                return
        if default is not None:
            index = self.start_from.findData(("init", str(default)))
            self.start_from.setCurrentIndex(max(index, 0))

    def choose_start(self, start: tuple[str, str]) -> None:
        """Select ``start`` ((kind, path) as ``start_from`` holds it), listed or a file that exists."""
        index = self.start_from.findData(start)
        if index >= 0:
            self.start_from.setCurrentIndex(index)
        elif Path(start[1]).is_file():
            self.add_start(Path(start[1]))

    def add_start(self, path: Path) -> None:
        kind = "init" if path.suffix == ".safetensors" else "encoder"
        label = f"{path.name} ({'fine-tune' if kind == 'init' else 'from scratch on this encoder'})"
        self.start_from.addItem(label, (kind, str(path)))
        self.start_from.setCurrentIndex(self.start_from.count() - 1)

    def _choose_start(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Start from", "", "Models and encoders (*.safetensors *.pth)")
        if path:
            self.add_start(Path(path))

    def apply_preset(self, preset: Preset) -> None:
        for name, value in preset.values.items():
            if name == "levels":
                for level, box in self.level_boxes.items():
                    box.setChecked(level in value)
            elif name == "precision":
                self.precision.setCurrentText(value)
            else:
                getattr(self, name).setValue(value)
        self.preset_chosen.emit(preset)

    # ------------------------------------------------------------------ kept between sessions

    def state(self) -> dict[str, Any]:
        """Every setting, as plain values (JSON-ready) for ``restore``."""
        state: dict[str, Any] = {name: getattr(self, name).text() for name in TEXTS}
        state |= {name: getattr(self, name).value() for name in NUMBERS}
        start = self.start_from.currentData()
        state |= {"preset": self.preset.currentText(), "gallery_styles": self.gallery_styles.isChecked(),
                  "start_from": list(start) if start is not None else None, "levels": self.levels(),
                  "precision": self.precision.currentText(),
                  "device": self._wanted_device or self.device.currentData()}
        return state

    def restore(self, state: dict[str, Any]) -> None:
        """Settings saved by ``state``; a value of the wrong kind is left as it is. The preset
        comes first: choosing it applies its values, which the saved fields then overwrite."""
        index = self.preset.findText(str(state.get("preset")))
        if index >= 0:
            self.preset.setCurrentIndex(index)
        for name in TEXTS:
            if isinstance(state.get(name), str):
                getattr(self, name).setText(state[name])
        for name in NUMBERS:
            value = state.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                spin = getattr(self, name)
                spin.setValue(value if isinstance(spin, QDoubleSpinBox) else int(value))
        if isinstance(state.get("gallery_styles"), bool):
            self.gallery_styles.setChecked(state["gallery_styles"])
        start = state.get("start_from")
        if isinstance(start, list) and len(start) == 2 and all(isinstance(v, str) for v in start):
            self.choose_start((start[0], start[1]))
        if isinstance(state.get("levels"), list):
            for level, box in self.level_boxes.items():
                box.setChecked(level in state["levels"])
        if self.precision.findText(str(state.get("precision"))) >= 0:
            self.precision.setCurrentText(state["precision"])
        if isinstance(state.get("device"), str):
            self._wanted_device = state["device"]
            self.set_devices(self._devices)

    # ------------------------------------------------------------------ reading

    def study(self) -> str | None:
        preset = self.preset.currentData()
        return preset.study if preset is not None else None

    def run_dir(self) -> Path:
        return Path(self.runs_root.text()).expanduser() / self.run_name.text().strip()

    def levels(self) -> list[int]:
        return [level for level, box in self.level_boxes.items() if box.isChecked()]

    def arguments(self, style_folder: Path) -> list[str]:
        """``styler train`` (or ``ablate STUDY``) arguments for these settings."""
        study = self.study()
        args = ["ablate", study] if study else ["train"]
        args += ["--content", self.content_folder.text(), "--style", str(style_folder), "-o", str(self.run_dir())]
        start = self.start_from.currentData()
        if start is not None:
            args += [f"--{start[0]}", start[1]]
        args += [
            "--steps", str(self.steps.value()), "--batch-size", str(self.batch_size.value()),
            "--crop-size", str(self.crop_size.value()), "--load-size", str(self.load_size.value()),
            "--precision", self.precision.currentText(), "--device", str(self.device.currentData()),
            "--workers", str(self.workers.value()), "--lambda-skew", f"{self.lambda_skew.value():g}",
            "--log-every", str(self.log_every.value()),
        ]
        if study != "loss-weights":  # that study sweeps them itself
            args += ["--lambda-global", f"{self.lambda_global.value():g}",
                     "--lambda-local", f"{self.lambda_local.value():g}"]
        if not study:
            args += ["--levels", ",".join(map(str, self.levels())),
                     "--save-every", str(self.save_every.value()), "--sample-every", str(self.sample_every.value())]
        return args
