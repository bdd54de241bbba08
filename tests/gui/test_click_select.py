"""Click to select (SAM 2) in the window: a click picks the object under it, Shift-click
removes one, both undo, and the full-size save uses the clicks in the photo's pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from engine.image_io import load_image, resize_to_max_side
from engine.models.folder import models_dir
from engine.models.install import import_path
from engine.options import RenderOptions
from engine.pipeline import region_mask_for
from engine.refiner import load_refiner
from engine.resources import sample_styles
from styler_app.settings import AppSettings
from tests.conftest import random_photo
from tests.gui.test_window import wait_for_preview
from tests.tiny_sam2 import sam2_dir  # noqa: F401 (fixture)


def test_clicks_select_remove_undo_and_reach_the_full_size_save(qtbot, tmp_path: Path, tiny_model: Path,
                                                                 sam2_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from styler_app.main_window import MainWindow
    from styler_app.session import EngineConfig, EngineSession

    import_path(sam2_dir)
    photos = tmp_path / "photos"
    photos.mkdir()
    photo = random_photo(photos / "room.png", (96, 72), seed=3)  # previews at half size
    settings = AppSettings.at(tmp_path / "click.ini")
    settings.preview_size = 48
    config = EngineConfig(model_path=str(tiny_model), device="cpu", style_size=64)
    window = MainWindow(settings, lambda: EngineSession(config), check_models=False)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        pane, canvas, edits, content = window.preview, window.preview.canvas, window.mask_edits, str(photo)
        qtbot.waitUntil(pane.select.isEnabled, timeout=30_000)  # the engine found SAM 2
        window.open_folder(photos)
        window.styles.select_style(sample_styles()[0])
        first = wait_for_preview(qtbot, window)
        assert first.mask is None  # no region yet: the whole photo
        pane.select.setChecked(True)
        centre = canvas.rect().center()  # the preview is fitted: its centre pixel is (24, 18)

        with qtbot.waitSignal(window.previews.shown, timeout=60_000) as picked:
            qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=centre)
        (click,) = edits.clicks(content)
        # The preview's centre, in the photo's pixels (twice the preview's), give or take the
        # rounding of the widget's centre.
        assert click.positive and abs(click.x - 48) <= 2 and abs(click.y - 36) <= 2
        assert picked.args[0].request.options.refiner == "sam"
        selected = picked.args[0].mask
        assert selected is not None and 0 < selected.mean() < 1
        # The preview's mask is the engine's for that click on the preview-sized photo.
        refiner = load_refiner(models_dir() / "sam2", "cpu")
        small = resize_to_max_side(load_image(photo), 48).rgb
        options = RenderOptions(points=(click,), refiner="sam").scaled_points(0.5, 0.5)
        assert np.array_equal(selected, region_mask_for(lambda: None, small, options, refiner=refiner))

        with qtbot.waitSignal(window.previews.shown, timeout=60_000) as removed:
            qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                             pos=centre + centre / 2)
        assert [c.positive for c in edits.clicks(content)] == [True, False]
        assert removed.args[0].mask.sum() < selected.sum()

        with qtbot.waitSignal(window.previews.shown, timeout=60_000) as undone:
            edits.group.undo()
        assert edits.clicks(content) == (click,)
        assert np.array_equal(undone.args[0].mask, selected)

        out = tmp_path / "out" / "room.png"
        with qtbot.waitSignal(window.worker.job_finished, timeout=60_000,
                              check_params_cb=lambda j, s: window.jobs.has_job(j)) as saved:
            job_id = window.saving.save_to(out)
        assert saved.args == [job_id, "done"]
        rgb = load_image(photo).rgb
        full = region_mask_for(lambda: None, rgb, RenderOptions(points=(click,), refiner="sam"),
                               refiner=refiner)
        result, original = np.asarray(Image.open(out)), np.asarray(Image.open(photo))
        assert result.shape == original.shape
        assert np.array_equal(result[full == 0], original[full == 0])
        assert not np.array_equal(result[full == 1], original[full == 1])
    finally:
        window.shutdown()
