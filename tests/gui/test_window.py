"""The main window end to end with a tiny random model: drops, previews, brushed masks,
full-size saves, folder jobs (cancel, failures), settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage

from engine.naming import output_name
from engine.options import RenderOptions
from engine.resources import sample_styles
from styler_app.dialogs.settings_dialog import SettingsDialog
from styler_app.saving import selection_destinations
from styler_app.settings import AppSettings
from tests.conftest import random_photo


def drop(widget, paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """Deliver a drop as the window system would after a drag (QApplication only routes
    drop events while a real drag is in progress, so the handlers are called directly)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(*args)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    widget.dropEvent(QDropEvent(*args))


def wait_for_preview(qtbot, window):  # type: ignore[no-untyped-def]
    """Preview now (F5) and wait until it is on the canvas; its PreviewResult."""
    failures: list[str] = []
    window.previews.failed.connect(failures.append)
    with qtbot.waitSignal(window.previews.shown, timeout=60_000, raising=False) as blocker:
        window.previews.preview_now()
    assert not failures, failures
    assert blocker.signal_triggered, "no preview within 60 s"
    return blocker.args[0]


def test_window_module_does_not_import_torch() -> None:
    code = "import sys, styler_app.main_window, styler_app.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_window_builds_with_the_sample_styles(window) -> None:  # type: ignore[no-untyped-def]
    assert window.windowTitle() == "Styler"
    assert len(sample_styles()) >= 5
    assert window.styles.model.paths()[: len(sample_styles())] == sample_styles()
    assert window.browser.model.rowCount() == 0


def test_dropping_files_and_folders_fills_the_lists(qtbot, window, photos: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loose = random_photo(tmp_path / "loose.png", (40, 30))
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    drop(window, [loose, notes])
    assert window.browser.model.paths() == [loose]
    assert "skipped 1" in window.statusBar().currentMessage()

    drop(window, [photos])
    assert len(window.browser.model.paths()) == 4
    assert window.browser.banner.isVisibleTo(window)  # offers "Stylize whole folder…"

    painting = random_photo(tmp_path / "my painting.jpg", (50, 50), seed=9)
    drop(window.styles.view, [painting])
    assert window.styles.current_style() == painting
    assert window.settings.user_styles == [str(painting)]  # persisted


def test_choosing_a_photo_and_style_shows_a_preview(qtbot, window, photos: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[0])
    wait_for_preview(qtbot, window)
    assert window.preview.canvas.has_image()
    assert window.history.count() == 1
    assert window.history.snapshots()[0].content == photos / "photo0.jpg"
    # The status bar follows the worker's status signal, sent just after the result.
    qtbot.waitUntil(lambda: window.model_label.text() == "Model: random", timeout=5_000)


def test_a_prompt_without_a_segmenter_is_a_readable_message(qtbot, window, photos: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[0])
    window.prompt.prompts.setText("sky")
    window.prompt.everything.setChecked(False)
    with qtbot.waitSignal(window.previews.failed, timeout=60_000) as blocker:
        window.previews.preview_now()
    assert "CLIPSeg" in blocker.args[0]
    assert window.preview.canvas.placeholder == blocker.args[0]  # shown, and the app goes on


def test_brushed_mask_is_used_for_the_full_size_save_and_undoes(qtbot, window, photos: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[1])
    wait_for_preview(qtbot, window)
    canvas = window.preview.canvas
    canvas.brush_mode, canvas.brush_size, canvas.brush_softness = "erase", 400.0, 0.0
    centre = canvas.rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(canvas, centre + QPoint(5, 0))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(5, 0))
    content = str(photos / "photo0.jpg")
    assert window.mask_edits.mask(content) is not None  # erased everywhere: nothing stylised

    out = tmp_path / "out" / "result.png"
    with qtbot.waitSignal(window.worker.job_finished, timeout=60_000, check_params_cb=lambda j, s: window.jobs.has_job(j)) as blocker:
        job_id = window.saving.save_to(out)
    assert blocker.args == [job_id, "done"]
    assert window.jobs.state_of(job_id) == "done"
    saved = np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)
    original = np.asarray(Image.open(content).convert("RGB"), dtype=np.int16)
    assert saved.shape == original.shape  # full resolution
    assert np.abs(saved - original).max() <= 1  # the erased mask kept the photo as it was

    window.mask_edits.group.undo()
    assert window.mask_edits.mask(content) is None  # back to the prompt's mask
    window.mask_edits.group.redo()
    assert window.mask_edits.mask(content) is not None
    window.previews.reset_mask()
    assert window.mask_edits.mask(content) is None


def test_cancel_stops_a_folder_job(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(12):
        random_photo(folder / f"p{index:02d}.jpg", (96, 64), seed=index)
    window.styles.select_style(sample_styles()[0])
    job_ids: list[int] = []
    window.worker.job_progress.connect(lambda job_id, fraction, message: job_ids and window.worker.cancel(job_ids[0]))
    with qtbot.waitSignal(window.worker.job_finished, timeout=120_000, check_params_cb=lambda j, s: j in job_ids) as blocker:
        job_ids.append(window.saving.stylize_folder(folder, tmp_path / "styled"))
    assert blocker.args[1] == "cancelled"
    assert window.jobs.state_of(job_ids[0]) == "cancelled"
    written = [p for p in (tmp_path / "styled").glob("*.jpg")]
    assert len(written) < 12


def test_a_failing_file_is_listed_with_its_reason(qtbot, window, photos: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (photos / "broken.jpg").write_bytes(b"this is not a jpeg")
    window.styles.select_style(sample_styles()[0])
    job_ids: list[int] = []
    with qtbot.waitSignal(window.worker.job_finished, timeout=120_000, check_params_cb=lambda j, s: j in job_ids) as blocker:
        job_ids.append(window.saving.stylize_folder(photos, tmp_path / "styled"))
    assert blocker.args[1] == "done"
    failures = window.jobs.failures_of(job_ids[0])
    assert [Path(item).name for item, reason in failures] == ["broken.jpg"]
    assert "broken.jpg" in failures[0][1] or "image" in failures[0][1]
    assert len(list((tmp_path / "styled").glob("photo*.jpg"))) == 3
    row = window.jobs.item_of(job_ids[0])
    window.jobs.tree.setCurrentItem(row.child(0))
    assert failures[0][1] in window.jobs.detail.text()


def test_settings_round_trip(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "roundtrip.ini"
    settings = AppSettings.at(path)
    dialog = SettingsDialog(settings, [("cuda:0", "NVIDIA Test GPU (80 GiB)"), ("cpu", "CPU (2 threads)")], str(tmp_path / "models"))
    qtbot.addWidget(dialog)
    dialog.device.setCurrentIndex(dialog.device.findData("cuda:0"))
    dialog.precision.setCurrentIndex(dialog.precision.findData("bf16"))
    dialog.preview_size.setCurrentIndex(dialog.preview_size.findData(768))
    dialog.output_folder.setText(str(tmp_path / "out"))
    dialog.name_template.setText("{stem}_{style}{ext}")
    dialog.apply()
    settings.add_recent_folder("/photos/a")
    settings.add_recent_folder("/photos/b")
    settings.user_styles = ["/styles/one.png"]
    settings.sync()

    again = AppSettings.at(path)
    assert (again.device, again.precision, again.preview_size) == ("cuda:0", "bf16", 768)
    assert again.output_folder == str(tmp_path / "out")
    assert again.name_template == "{stem}_{style}{ext}"
    assert again.recent_folders == ["/photos/b", "/photos/a"]
    assert again.user_styles == ["/styles/one.png"]
    assert dialog.chosen_models_folder() == tmp_path / "models"


def test_window_geometry_is_restored(qtbot, tmp_path: Path, tiny_model: Path) -> None:  # type: ignore[no-untyped-def]
    from styler_app.main_window import MainWindow

    settings = AppSettings.at(tmp_path / "geometry.ini")
    first = MainWindow(settings, check_models=False)
    qtbot.addWidget(first)
    first.show()
    hint = first.minimumSizeHint()
    first.resize(hint.width() + 41, hint.height() + 29)  # not the 1280×800 default
    first.splitter.setSizes([150, 400, 250])
    size, geometry = first.size(), first.saveGeometry()
    first.shutdown()
    second = MainWindow(AppSettings.at(tmp_path / "geometry.ini"), check_models=False)
    qtbot.addWidget(second)
    second.show()
    assert AppSettings.at(tmp_path / "geometry.ini").window_state("geometry") == geometry
    # restoreGeometry fits the window onto the (small) offscreen screen, so only the height
    # is compared exactly; the width may be clamped.
    assert second.height() == size.height() and second.width() <= size.width()
    second.shutdown()


def test_canvas_zoom_and_pan(qtbot) -> None:  # type: ignore[no-untyped-def]
    from styler_app.widgets.canvas import PreviewCanvas

    canvas = PreviewCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    image = QImage(200, 100, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.darkGreen)
    canvas.set_images(image, image)
    assert canvas.scale() == 2.0  # fit: 400 / 200
    canvas.zoom_to(1.0)
    assert canvas.scale() == 1.0
    canvas.zoom_by(1)
    assert canvas.scale() == 1.25
    canvas.zoom_fit()
    assert canvas.scale() == 2.0


def test_a_prompt_previews_with_its_mask(qtbot, tmp_path: Path, tiny_model: Path, photos: Path) -> None:  # type: ignore[no-untyped-def]
    from styler_app.main_window import MainWindow
    from styler_app.session import EngineConfig, EngineSession
    from tests.tiny_clipseg import write_tiny_clipseg

    segmenter = write_tiny_clipseg(tmp_path / "clipseg")
    settings = AppSettings.at(tmp_path / "prompt.ini")
    settings.preview_size = 64
    config = EngineConfig(model_path=str(tiny_model), device="cpu", style_size=64, segmenter=str(segmenter))
    window = MainWindow(settings, lambda: EngineSession(config), check_models=False)
    qtbot.addWidget(window)
    window.start()
    try:
        window.open_folder(photos)
        window.styles.select_style(sample_styles()[0])
        window.prompt.everything.setChecked(False)
        window.prompt.prompts.setText("sky, water")
        window.prompt.threshold.setValue(0.05)
        preview = wait_for_preview(qtbot, window)
        assert preview.request.options.prompts == ("sky", "water")
        assert preview.mask is not None and preview.mask.shape == (48, 64)
        assert window.preview.canvas.mask_image() is not None  # the overlay the brush paints on
    finally:
        window.shutdown()


def test_first_run_dialog_offers_the_missing_models(qtbot, tmp_path: Path, tiny_model: Path) -> None:  # type: ignore[no-untyped-def]
    from styler_app.main_window import MainWindow
    from styler_app.session import EngineConfig, EngineSession

    config = EngineConfig(model_path=str(tiny_model), device="cpu", style_size=64)
    window = MainWindow(AppSettings.at(tmp_path / "first.ini"), lambda: EngineSession(config), check_models=True)
    qtbot.addWidget(window)
    window.show()
    window.start()  # STYLER_HOME is empty in tests: nothing installed
    try:
        qtbot.waitUntil(lambda: window.models.dialog is not None and window.models.dialog.isVisible(), timeout=30_000)
        offered = set(window.models.dialog.offered())
        assert "adaattn" in offered
        assert window.browser.isEnabled() and not window.models.dialog.isModal()  # the rest stays usable
    finally:
        window.shutdown()


def test_saving_with_several_photos_selected_saves_each_as_one_job(qtbot, window, photos: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (photos / "broken.jpg").write_bytes(b"this is not a jpeg")
    window.open_folder(photos)
    window.styles.select_style(sample_styles()[0])
    window.browser.grid.selectAll()
    out = tmp_path / "chosen"
    monkeypatch.setattr("styler_app.saving.QFileDialog.getExistingDirectory", lambda *args: str(out))
    job_ids: list[int] = []
    window.worker.job_started.connect(lambda job_id, kind: kind == "save" and job_ids.append(job_id))
    with qtbot.waitSignal(window.worker.job_finished, timeout=120_000, check_params_cb=lambda j, s: j in job_ids) as blocker:
        window.saving.save_dialog()  # File ▸ Save result… with four photos selected
    assert blocker.args[1] == "done"
    assert [Path(item).name for item, reason in window.jobs.failures_of(job_ids[0])] == ["broken.jpg"]
    for index in range(3):
        content = photos / f"photo{index}.jpg"
        saved = out / output_name(window.settings.name_template, content, sample_styles()[0])
        with Image.open(saved) as result, Image.open(content) as original:
            assert result.size == original.size  # full resolution, one file each
    assert window.jobs.state_of(job_ids[0]) == "done"


def test_selection_names_do_not_collide(tmp_path: Path) -> None:
    contents = [tmp_path / "a" / "IMG_1.jpg", tmp_path / "b" / "IMG_1.jpg", tmp_path / "a" / "IMG_2.jpg"]
    names = [p.name for p in selection_destinations("{stem}_styled{ext}", contents, Path("swirl.png"), RenderOptions(), tmp_path)]
    assert names == ["IMG_1_styled.jpg", "IMG_1_styled (2).jpg", "IMG_2_styled.jpg"]


def test_saved_names_are_the_batch_names(tmp_path: Path) -> None:
    """A prompt with a slash must not make a sub-folder; an inverted region says so."""
    options = RenderOptions(prompts=("sky/clouds", "Old Tree"), invert=True)
    template = "{stem}_{prompt}_{style}{ext}"
    names = [p.name for p in selection_destinations(template, [tmp_path / "a.jpg"], Path("Starry Night.png"), options, tmp_path)]
    assert names == ["a_not-sky-clouds_old-tree_starry-night.jpg"]


def test_settings_refuse_a_bad_name_template_with_the_reason(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = AppSettings.at(tmp_path / "template.ini")
    dialog = SettingsDialog(settings, [], str(tmp_path / "models"))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_template.setText("{stem}_{colour}{ext}")
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "unknown field {colour}" in dialog.name_problem.text() and dialog.name_problem.isVisible()
    dialog.name_template.setText("{stem}_{style}{ext}")
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
