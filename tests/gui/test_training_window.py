"""The Training studio inside the main window: a finished run's model in the model chooser
changes what the preview paints; Preview with this checkpoint; the tab is there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtGui import QImage

from engine.resources import sample_styles
from engine.train.ablate import run_study
from engine.train.config import TrainConfig
from engine.train.loop import train
from tests.gui.test_window import wait_for_preview
from tests.test_train import make_init, write_images


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3].copy()


@pytest.fixture
def finished_run(tmp_path: Path, isolated_home: Path) -> Path:
    """A real one-step `styler train` run in the runs folder the window lists."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        content = write_images(tmp_path / "content", 2, seed=1)
        style = write_images(tmp_path / "style", 1, seed=2)
        init = make_init(tmp_path / "init.safetensors")
        run_dir = isolated_home / "runs" / "my-paintings"
        train(TrainConfig(str(content), str(style), str(run_dir), init=str(init), steps=1, batch_size=1, load_size=32,
                          crop_size=32, workers=0, save_every=0, sample_every=0, log_every=1), log=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    return run_dir


@pytest.mark.slow
def test_a_finished_run_in_the_chooser_changes_the_preview(qtbot, window, photos: Path, finished_run: Path) -> None:  # type: ignore[no-untyped-def]
    assert "training" in window.docks.docks
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[0])
    before = wait_for_preview(qtbot, window)

    chooser = window.model_chooser
    window.training.refresh_models()
    model = str(finished_run / "model.safetensors")
    index = chooser.findData(model)
    assert index >= 0 and "my-paintings" in chooser.itemText(index) and "finished" in chooser.itemText(index)
    with qtbot.waitSignal(window.previews.shown, timeout=120_000) as shown:
        chooser.setCurrentIndex(index)
        chooser.activated.emit(index)  # what a person's pick in the list sends
    after = shown.args[0]
    assert after.request.content == before.request.content and after.request.style == before.request.style
    assert not np.array_equal(pixels(before.result), pixels(after.result))
    assert window.settings.model_path == model  # the choice persists
    qtbot.waitUntil(lambda: window.model_label.text() == "Model: model", timeout=10_000)


def test_an_ablations_variant_models_are_in_the_chooser(qtbot, window, tmp_path: Path, isolated_home: Path) -> None:  # type: ignore[no-untyped-def]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        content = write_images(tmp_path / "content", 2, seed=1)
        style = write_images(tmp_path / "style", 1, seed=2)
        base = TrainConfig(str(content), str(style), "", init=str(make_init(tmp_path / "init.safetensors")), steps=1,
                           batch_size=1, load_size=32, crop_size=32, workers=0, save_every=0, sample_every=0, log_every=1)
        study = isolated_home / "runs" / "skew-study"
        run_study("skew", base, study, log=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    window.training.refresh_models()
    chooser = window.model_chooser
    for variant in ("skew", "no-skew"):
        index = chooser.findData(str(study / "runs" / variant / "model.safetensors"))
        assert index >= 0 and f"skew-study/{variant}" in chooser.itemText(index)


@pytest.mark.slow
def test_preview_with_this_checkpoint_uses_the_runs_model(qtbot, window, photos: Path, finished_run: Path) -> None:  # type: ignore[no-untyped-def]
    panel = window.training.panel
    panel.attach(finished_run)
    qtbot.waitUntil(lambda: not panel.monitor.live, timeout=10_000)  # a finished run: nothing to follow
    assert panel.preview_button.isEnabled()
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[0])
    with qtbot.waitSignal(window.previews.shown, timeout=120_000):
        panel.preview_button.click()
    assert window.settings.model_path == str(finished_run / "model.safetensors")
    assert window.model_chooser.chosen() == str(finished_run / "model.safetensors")
    qtbot.waitUntil(lambda: window.model_label.text() == "Model: model", timeout=10_000)


def test_compare_renders_the_photo_with_each_model(qtbot, window, photos: Path, tiny_model: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = make_init(tmp_path / "other.safetensors")
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[0])
    wait_for_preview(qtbot, window)
    models = [str(tiny_model), str(other)]
    view = window.training.compare(models)
    assert view is not None
    qtbot.waitUntil(lambda: len(view.images) == 2, timeout=120_000)
    first, second = (pixels(view.images[m]) for m in models)
    assert first.shape == second.shape  # same photo at the same size …
    assert not np.array_equal(first, second)  # … painted by two different models
    assert window.settings.model_path == ""  # comparing does not change the chosen model
    view.close()
