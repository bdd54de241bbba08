"""The Training panel against real `styler train` child processes on tiny data (32 px crops,
batch 1, CPU): start → live curves equal metrics.jsonl → Stop → checkpoint → Resume → the
requested step; kill -9 → failed, Resume works; refusals for locked and empty folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.train.runs import run_summary
from tests.test_train import make_init, write_images

pytestmark = pytest.mark.slow
RUN_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("training-data")
    content = write_images(root / "content", 3, seed=1)
    style = write_images(root / "style", 2, seed=2)
    return content, style, make_init(root / "init.safetensors")


@pytest.fixture
def panel(qtbot, tmp_path: Path, data, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from styler_app.training.panel import TrainingPanel

    # Tiny tensors gain nothing from threads, and a shared machine makes spinning ones slow.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    content, style, init = data
    panel = TrainingPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    form = panel.form
    form.content_folder.setText(str(content))
    form.style_folder.setText(str(style))
    form.add_start(init)
    for spin, value in ((form.batch_size, 1), (form.crop_size, 32), (form.load_size, 32), (form.workers, 0),
                        (form.log_every, 1), (form.save_every, 2), (form.sample_every, 2), (form.steps, 5)):
        spin.setValue(value)
    form.device.setCurrentIndex(form.device.findData("auto"))
    form.run_name.setText("tiny")
    yield panel
    panel.shutdown()


def plotted(panel, term: str = "loss") -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    panel.plot.redraw()
    x, y = panel.plot.curves[term].getData()
    return np.asarray(x), np.asarray(y)


def logged(run_dir: Path, term: str = "loss") -> tuple[np.ndarray, np.ndarray]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return np.array([r["step"] for r in records], float), np.array([r[term] for r in records], float)


def assert_curves_match_file(panel, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    for term in ("loss", "global", "local", "skew"):
        x, y = plotted(panel, term)
        fx, fy = logged(run_dir, term)
        assert len(fx) > 0
        np.testing.assert_array_equal(x, fx)
        np.testing.assert_array_equal(y, fy)


def test_start_stop_resume_from_the_panel(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    run_dir = panel.form.run_dir()
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.monitor.live and panel.plot.point_count() >= 1, timeout=RUN_TIMEOUT_MS)
    panel.stop_button.click()
    with qtbot.waitSignal(panel.monitor.ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    summary = ended.args[0]
    assert summary.state == "stopped", summary.message
    assert (run_dir / "checkpoint.pt").is_file() and summary.checkpoint_step is not None
    assert summary.checkpoint_step < 5
    assert_curves_match_file(panel, run_dir)
    assert panel.resume_button.isEnabled()

    panel.resume_button.click()
    with qtbot.waitSignal(panel.monitor.ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    summary = ended.args[0]
    assert summary.state == "finished", summary.message
    assert summary.checkpoint_step == 5 and summary.step == 5
    assert_curves_match_file(panel, run_dir)
    assert panel.sample.pixmap() is not None and not panel.sample.pixmap().isNull()
    assert any("finished at step 5" in line for line in panel.log.toPlainText().splitlines())
    assert panel.runs.runs[0].state == "finished"


def test_a_killed_run_is_failed_and_resumes(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    run_dir = panel.form.run_dir()
    panel.form.steps.setValue(4)
    panel.start_button.click()
    qtbot.waitUntil(lambda: (run_dir / "checkpoint.json").is_file(), timeout=RUN_TIMEOUT_MS)
    # A window opened now (as after "Leave running" and a restart) re-attaches to the run.
    from styler_app.training.panel import TrainingPanel

    second = TrainingPanel(run_dir.parent)
    qtbot.addWidget(second)
    assert second.reattach() is not None and second.monitor.live and second.stop_button.isEnabled()
    qtbot.waitUntil(lambda: second.plot.point_count() >= 2, timeout=30_000)
    second.shutdown()
    trainer = run_summary(run_dir).pid
    assert trainer is not None
    os.kill(trainer, signal.SIGKILL)
    with qtbot.waitSignal(panel.monitor.ended, timeout=60_000) as ended:
        pass
    summary = ended.args[0]
    assert summary.state == "failed"
    assert "SIGKILL" in summary.message and "failed" in panel.message.text()
    assert "Resume continues from the checkpoint of step 2" in panel.message.text()
    assert panel.resume_button.isEnabled()
    panel.resume_button.click()
    with qtbot.waitSignal(panel.monitor.ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    assert ended.args[0].state == "finished" and ended.args[0].step == 4


def test_a_run_folder_in_use_is_refused(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    run_dir = panel.form.run_dir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from engine.train.lock import RunLock; "
         "lock = RunLock(sys.argv[1]); lock.acquire(); print('held', flush=True); time.sleep(60)", str(run_dir)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        panel.start_button.click()
        assert "in use by another training process" in panel.message.text()
        assert f"process {holder.pid}" in panel.message.text()
        assert not panel.monitor.live
    finally:
        holder.kill()
        holder.communicate()  # waits, and closes the pipe
    # The holder is gone (killed, as a crash would): its lock went with it.
    assert run_summary(run_dir).state == "new"


def test_an_empty_folder_is_refused(qtbot, panel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    panel.form.content_folder.setText(str(empty))
    panel.start_button.click()
    qtbot.waitUntil(lambda: "no images" in panel.message.text(), timeout=10_000)
    assert str(empty) in panel.message.text()
    assert not panel.monitor.live and not panel.form.run_dir().exists()


def test_an_ablation_stops_from_a_reattached_window_resumes_and_shows_its_report(qtbot, panel) -> None:  # type: ignore[no-untyped-def]
    """An ablation preset runs `styler ablate`; the numbers line and curves follow its current
    variant; a second window (as after "Leave running" and a restart) re-attaches to it and
    its Stop ends the study stopped, the variant checkpointed and the next one not started;
    Resume completes it and the report is shown."""
    from styler_app.training.panel import TrainingPanel

    steps = 4
    form = panel.form
    form.preset.setCurrentIndex(form.preset.findText("Ablation: skewness term (without · with)"))
    assert form.study() == "skew" and form.steps.value() == 200  # the preset's budget …
    form.steps.setValue(steps)  # … cut to a few steps per variant
    form.run_name.setText("skew-study")
    run_dir = form.run_dir()
    first, second_variant = run_dir / "runs" / "no-skew", run_dir / "runs" / "skew"
    panel.start_button.click()
    qtbot.waitUntil(lambda: (first / "metrics.jsonl").is_file() and (first / "metrics.jsonl").stat().st_size > 0,
                    timeout=RUN_TIMEOUT_MS)
    # Freeze the study (SIGSTOP) so that the stop lands inside the first variant however fast
    # or slow this machine is; it finishes the step it is in once it may go on.
    study = run_summary(run_dir).pid
    assert study is not None
    os.kill(study, signal.SIGSTOP)
    try:
        step = run_summary(first).step
        assert 1 <= step < steps - 1
        line = f"variant 1 of 2 (without skew) · step {step} / {steps}"
        qtbot.waitUntil(lambda: line in panel.numbers.text(), timeout=10_000)
        assert_curves_match_file(panel, first)
        again = TrainingPanel(run_dir.parent)
        qtbot.addWidget(again)
        assert again.reattach() is not None and again.live_run() == run_dir and again.stop_button.isEnabled()
        assert "Re-attached to skew-study" in again.message.text()
        qtbot.waitUntil(lambda: line in again.numbers.text(), timeout=10_000)
        assert_curves_match_file(again, first)
        again.stop_button.click()
    finally:
        os.kill(study, signal.SIGCONT)
    with qtbot.waitSignal(again.monitor.ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    again.shutdown()
    summary = ended.args[0]
    assert summary.state == "stopped", summary.message
    stopped_at = run_summary(first).checkpoint_step
    assert stopped_at in (step, step + 1) and run_summary(first).state == "stopped"
    assert not second_variant.exists()  # the study started no further variant
    assert (f"the ablation stopped in variant 1 of 2 (without skew) at step {stopped_at} (checkpoint saved); "
            "not run yet: with skew") in again.message.text()
    assert again.tabs.currentWidget() is again.report and "Not complete" in again.report.toPlainText()
    assert again.resume_button.isEnabled()

    qtbot.waitUntil(lambda: not panel.monitor.live, timeout=10_000)  # the first window saw it end too
    panel.resume_button.click()
    with qtbot.waitSignal(panel.monitor.ended, timeout=RUN_TIMEOUT_MS) as ended:
        pass
    assert ended.args[0].state == "finished", ended.args[0].message
    log = panel.log.toPlainText()
    assert "— without skew" in log and "— with skew" in log and "report: " in log  # `styler ablate`'s output
    assert f"training from step {stopped_at} to step {steps}" in log  # the stopped variant resumed
    # The numbers line and the curves moved on to the second variant (its curves alone).
    assert f"variant 2 of 2 (with skew) · step {steps} / {steps}" in panel.numbers.text()
    assert_curves_match_file(panel, second_variant)
    assert "the ablation has finished" in panel.message.text()
    assert (run_dir / "report.md").is_file() and panel.tabs.currentWidget() is panel.report
    shown = panel.report.toPlainText()
    assert "Ablation: skew" in shown and "Not complete" not in shown
    # The report's table, rendered: a header row and one row per variant, each a real run.
    table = panel.report.document().rootFrame().childFrames()[0]
    rows = [[table.cellAt(r, c).firstCursorPosition().block().text() for c in range(table.columns())]
            for r in range(table.rows())]
    assert rows[0][:2] == ["variant", "levels"] and [row[0] for row in rows[1:]] == ["without skew", "with skew"]
    assert [row[4] for row in rows[1:]] == ["0", "1"]  # λskew of each variant
    for variant in (first, second_variant):
        assert run_summary(variant).state == "finished" and run_summary(variant).checkpoint_step == steps
    assert [(run.name, run.state) for run in panel.runs.runs] == [("skew-study", "finished")]
    assert panel.runs.item(0, 2).text() == f"2/2: {steps} / {steps}"  # the last variant's step
    assert panel.runs.item(0, 5).text().startswith("ablation: skew, 2 variants · from init.safetensors")
