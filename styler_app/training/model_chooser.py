"""The model chooser beside the style gallery: every installed style model (the default
marked) and every training run's model (finished runs, and the latest checkpoint of a
running or stopped one). Its value is a model file path; "" means the installed default."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from engine.errors import StylerError
from engine.train.runs import list_runs

DEFAULT = ""


def installed_style_models() -> tuple[list[tuple[str, Path]], str | None]:
    """(name, path) of every installed style model, and the default's name."""
    from engine.models.store import default_style_model, installed_models

    try:
        models = [(m.name, m.path) for m in installed_models() if m.kind == "style"]
        return models, default_style_model()
    except StylerError:  # an unreadable manifest: the settings dialog says so; list nothing here
        return [], None


def run_label(name: str, state: str, step: int, steps: int) -> str:
    if state == "finished":
        return f"Run {name} — finished, step {step}"
    if state == "running":
        return f"Run {name} — latest checkpoint (running, step {step}/{steps})"
    return f"Run {name} — {state} at step {step}/{steps}"


class ModelChooser(QComboBox):
    model_chosen = Signal(str)  # a model file, or "" for the installed default

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip("The style model that renders the preview and saved results")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(18)
        self.activated.connect(lambda _: self.model_chosen.emit(self.currentData() or DEFAULT))

    def refresh(self, runs_root: Path, chosen: str) -> None:
        """Rebuild the list and select ``chosen`` (added as a file entry if it is not listed)."""
        self.blockSignals(True)
        self.clear()
        models, default = installed_style_models()
        self.addItem(f"Default model ({default})" if default else "Default model", DEFAULT)
        for name, path in models:
            self.addItem(f"{name} (default)" if name == default else name, str(path))
        for run in list_runs(runs_root):
            # An ablation's models are its variants' runs, one level down (OUT/runs/VARIANT).
            variants = list_runs(run.run_dir / "runs") if run.study is not None else []
            for listed, name in [(run, run.name), *((v, f"{run.name}/{v.name}") for v in variants)]:
                if listed.model_path is not None:
                    step = listed.checkpoint_step or listed.step
                    self.addItem(run_label(name, listed.state, step, listed.steps), str(listed.model_path))
        self.select(chosen)
        self.blockSignals(False)

    def select(self, path: str) -> None:
        index = self.findData(path)
        if index < 0:
            self.addItem(Path(path).name, path)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def chosen(self) -> str:
        return self.currentData() or DEFAULT
