"""The Training form is kept between sessions: what a person set up comes back when the
window (here: the panel, on the same settings file) is built again."""

from __future__ import annotations

from pathlib import Path

from styler_app.settings import AppSettings
from styler_app.training.form_memory import KEY
from styler_app.training.panel import TrainingPanel

DEVICES = [("cpu", "CPU"), ("cuda:0", "NVIDIA Example")]


def test_the_form_comes_back_when_the_panel_is_rebuilt(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings_file = tmp_path / "styler.ini"
    mine = tmp_path / "my-model.safetensors"  # a start picked with "…" (the form only keeps its path)
    mine.write_bytes(b"weights")
    installed = tmp_path / "adaattn.safetensors"

    first = TrainingPanel(tmp_path / "runs", settings=AppSettings.at(settings_file))
    qtbot.addWidget(first)
    form = first.form
    form.set_start_models([("adaattn (fine-tune)", installed)], installed)
    form.set_devices(DEVICES)
    form.preset.setCurrentIndex(form.preset.findText("Seed paper (λg = λl = 1)"))  # applies its values …
    form.content_folder.setText(str(tmp_path / "photos"))
    form.style_folder.setText(str(tmp_path / "paintings"))
    form.gallery_styles.setChecked(True)
    form.add_start(mine)
    for spin, value in ((form.steps, 1234), (form.batch_size, 3), (form.crop_size, 128), (form.load_size, 160),
                        (form.lambda_global, 2.5), (form.lambda_local, 0.5), (form.lambda_skew, 0.25),
                        (form.workers, 1), (form.save_every, 7), (form.sample_every, 9), (form.log_every, 3)):
        spin.setValue(value)  # … which the person then changed
    form.level_boxes[4].setChecked(False)
    form.precision.setCurrentText("bf16")
    form.device.setCurrentIndex(form.device.findData("cuda:0"))
    form.runs_root.setText(str(tmp_path / "my-runs"))
    form.run_name.setText("portraits-v2")
    arguments = form.arguments(tmp_path / "paintings")
    first.shutdown()  # the window closes

    second = TrainingPanel(tmp_path / "runs", settings=AppSettings.at(settings_file))
    qtbot.addWidget(second)
    again = second.form
    # What the window does next: list the installed models, and (once the engine has
    # started) the devices; the restored choices must survive both.
    again.set_start_models([("adaattn (fine-tune)", installed)], installed)
    assert again.device.currentData() == "auto"  # the GPU is not listed yet …
    again.set_devices(DEVICES)
    assert again.device.currentData() == "cuda:0"  # … and chosen once it is
    assert again.preset.currentText() == "Seed paper (λg = λl = 1)"
    assert again.start_from.currentData() == ("init", str(mine))
    assert again.content_folder.text() == str(tmp_path / "photos") and again.gallery_styles.isChecked()
    assert (again.steps.value(), again.batch_size.value(), again.crop_size.value()) == (1234, 3, 128)
    assert (again.lambda_global.value(), again.lambda_local.value(), again.lambda_skew.value()) == (2.5, 0.5, 0.25)
    assert again.levels() == [3, 5] and again.precision.currentText() == "bf16"
    assert again.run_dir() == tmp_path / "my-runs" / "portraits-v2"
    assert again.arguments(tmp_path / "paintings") == arguments  # the same run, argument for argument
    second.shutdown()


def test_an_unreadable_saved_form_leaves_the_defaults(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = AppSettings.at(tmp_path / "styler.ini")
    settings.store.setValue(KEY, "{not json")
    panel = TrainingPanel(tmp_path / "runs", settings=settings)
    qtbot.addWidget(panel)
    assert panel.form.steps.value() == 2000 and panel.form.run_name.text() == "my-fine-tune"
    settings.store.setValue(KEY, '{"steps": "many", "levels": 5, "run_name": 7, "device": null}')
    other = TrainingPanel(tmp_path / "runs", settings=settings)
    qtbot.addWidget(other)
    assert other.form.steps.value() == 2000 and other.form.levels() == [3, 4, 5]
    assert other.form.run_name.text() == "my-fine-tune" and other.form.device.currentData() == "auto"
    panel.shutdown()
    other.shutdown()
