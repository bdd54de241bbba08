"""What the preview shows is what the engine renders for the settings on screen: the
stylised pixels (not the photo), with every control (strength, colour, prompts, threshold,
feather) having reached the engine. The engine's render is made here independently, from
the same files and the values the widgets hold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.image_io import load_image, resize_to_max_side
from engine.options import RenderOptions
from engine.pipeline import Pipeline, RenderResult
from engine.resources import sample_styles
from engine.segment import Segmenter
from engine.stylizer import Stylizer
from styler_app.main_window import MainWindow
from styler_app.session import EngineConfig, EngineSession
from styler_app.settings import AppSettings
from tests.tiny_clipseg import write_tiny_clipseg

PREVIEW_SIZE = 64


def pixels(image: QImage | None) -> np.ndarray:
    """An RGB QImage as (H, W, 3) uint8."""
    assert image is not None
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, : 3 * w].reshape(h, w, 3).copy()


def as_8bit(rgb: np.ndarray) -> np.ndarray:
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def engine_render(model: Path, photo: Path, style: Path, options: RenderOptions, clipseg: Path | None = None) -> RenderResult:
    """The engine alone, as ``styler stylize`` would run it at the preview's size."""
    stylizer = Stylizer.from_file(model, device="cpu", style_size=64)
    segmenter = Segmenter.from_folder(clipseg, "cpu") if clipseg is not None else None
    pipeline = Pipeline(stylizer, segmenter)
    pipeline.set_style(load_image(style))
    return pipeline.render(resize_to_max_side(load_image(photo), PREVIEW_SIZE), options)


def show_preview(qtbot, window: MainWindow):  # type: ignore[no-untyped-def]
    failures: list[str] = []
    window.previews.failed.connect(failures.append)
    with qtbot.waitSignal(window.previews.shown, timeout=60_000, raising=False) as blocker:
        window.previews.preview_now()
    assert not failures and blocker.signal_triggered, failures
    return blocker.args[0]


def test_the_preview_shows_the_engines_stylised_pixels(qtbot, window, photos: Path, tiny_model: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_folder(photos)
    style = sample_styles()[2]
    window.styles.select_style(style)
    window.styles.strength.setValue(0.6)
    window.styles.preserve_color.setChecked(True)
    show_preview(qtbot, window)

    options = RenderOptions(strength=float(window.styles.strength.value()), preserve_color=True)
    expected = engine_render(tiny_model, photos / "photo0.jpg", style, options)
    shown = pixels(window.preview.canvas.result()).astype(np.int16)
    assert np.abs(shown - as_8bit(expected.rgb)).max() <= 1  # "After" is the engine's render
    photo = as_8bit(expected.image.rgb).astype(np.int16)
    assert np.abs(pixels(window.preview.canvas.original()).astype(np.int16) - photo).max() <= 1  # "Before"
    assert np.abs(shown - photo).mean() > 2  # and the two are not the same picture


@pytest.fixture
def prompt_window(qtbot, tmp_path: Path, tiny_model: Path):  # type: ignore[no-untyped-def]
    clipseg = write_tiny_clipseg(tmp_path / "clipseg")
    settings = AppSettings.at(tmp_path / "prompt.ini")
    settings.preview_size = PREVIEW_SIZE
    config = EngineConfig(model_path=str(tiny_model), device="cpu", style_size=64, segmenter=str(clipseg))
    window = MainWindow(settings, lambda: EngineSession(config), check_models=False)
    qtbot.addWidget(window)
    window.start()
    yield window, clipseg
    window.shutdown()


def test_every_region_control_reaches_the_engine(qtbot, prompt_window, photos: Path, tiny_model: Path) -> None:  # type: ignore[no-untyped-def]
    window, clipseg = prompt_window
    photo, style = photos / "photo1.jpg", sample_styles()[0]
    region = RenderOptions(prompts=("sky", "water"), negatives=("people",))

    # A threshold and feather whose mask differs from the defaults' (the tiny CLIPSeg is
    # random and its probabilities sit near 0.4, so a threshold that splits this photo is
    # found, not assumed).
    def mask_with(**changes: float) -> np.ndarray:
        result = engine_render(tiny_model, photo, style, dataclasses.replace(region, **changes), clipseg)
        assert result.mask is not None
        return result.mask

    default = mask_with()
    threshold = next(
        t for t in (0.42, 0.38, 0.43, 0.36, 0.44, 0.3)
        if 0.05 < float((mask_with(threshold=t, feather=0.0) > 0).mean()) < 0.95
        and not np.array_equal(mask_with(threshold=t), default)
    )

    window.open_folder(photos)
    window.browser.select_row(window.browser.model.paths().index(photo))
    window.styles.select_style(style)
    window.prompt.everything.setChecked(False)
    window.prompt.prompts.setText("sky, water")
    window.prompt.negatives.setText("people")
    qtbot.keyClick(window.prompt.prompts, Qt.Key.Key_Return)  # typing ends with Enter
    window.prompt.threshold.setValue(threshold)
    window.prompt.feather.setValue(9.0)
    shown = show_preview(qtbot, window)

    on_screen = RenderOptions(
        prompts=("sky", "water"), negatives=("people",),
        threshold=float(window.prompt.threshold.value()), feather=float(window.prompt.feather.value()),
    )
    expected = engine_render(tiny_model, photo, style, on_screen, clipseg)
    assert expected.mask is not None and not np.array_equal(expected.mask, default)
    assert shown.mask is not None
    np.testing.assert_allclose(shown.mask, expected.mask, rtol=0, atol=1e-6)  # the engine's mask
    assert np.abs(pixels(window.preview.canvas.result()).astype(np.int16) - as_8bit(expected.rgb)).max() <= 1
