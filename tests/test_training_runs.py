"""The run-folder machinery the Training studio relies on: the lock, status and supervisor,
incremental metrics reading, folder checks, and a failed checkpoint write."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import StylerError
from engine.train.config import TrainConfig
from engine.train.folders import check_folder
from engine.train.lock import RunInUse, RunLock, lock_holder
from engine.train.loop import train
from engine.train.metrics_tail import LineTail, MetricsTail
from engine.train.run_status import RunStatus, read_status, write_status
from engine.train.runs import run_summary
from engine.train.supervise import record_exit
from styler_app.training.loss_plot import ema
from tests.test_train import make_init, single_thread, write_images  # noqa: F401 (autouse fixture)

HOLD = "import sys, time; from engine.train.lock import RunLock; RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)"


def test_a_held_lock_refuses_and_a_killed_holder_releases_it(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert lock_holder(tmp_path) == holder.pid
        with pytest.raises(RunInUse, match=f"in use by another training process \\(process {holder.pid}\\)"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, as in a crash
        holder.communicate()  # waits, and closes the pipe
    assert lock_holder(tmp_path) is None
    with RunLock(tmp_path):
        pass


def test_metrics_are_read_incrementally_and_start_over_when_replaced(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.read().items == []
    path.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "lo')  # the second line is half written
    assert [r["step"] for r in tail.read().items] == [1]
    with open(path, "a") as f:
        f.write('ss": 1.5}\n{"step": 3, "loss": 1.0}\n')
    update = tail.read()
    assert [r["step"] for r in update.items] == [2, 3] and not update.reset
    assert tail.read().items == []
    # --resume rewrites the file (atomically: a new inode) without the steps it redoes.
    replacement = tmp_path / "new.jsonl"
    replacement.write_text('{"step": 1, "loss": 2.0}\n')
    replacement.replace(path)
    update = tail.read()
    assert update.reset and [r["step"] for r in update.items] == [1]


def test_a_long_history_is_read_in_bounded_slices(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_text("".join(f"line {i:04d}\n" for i in range(1000)))  # 10 bytes a line
    tail, lines, reads = LineTail(path), [], 0
    while True:
        update = tail.read(max_bytes=1000)
        lines += update.items
        reads += 1
        if not update.pending:
            break
    assert lines == [f"line {i:04d}" for i in range(1000)] and reads >= 10


def test_incremental_smoothing_equals_smoothing_everything() -> None:
    values = np.random.default_rng(0).random(50)
    whole, _ = ema(values, 0.7)
    first, last = ema(values[:20], 0.7)
    rest, _ = ema(values[20:], 0.7, last, 20)
    np.testing.assert_allclose(np.concatenate([first, rest]), whole)
    assert ema(values, 0.0)[0] is values
    assert whole[0] == pytest.approx(values[0])  # debiased: the first point is not pulled to 0


def test_folder_check_counts_usable_images_and_names_unreadable_ones(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "photos", 3, seed=0)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    check = check_folder(folder, "content")
    assert check.usable == 3 and [p.name for p in check.unreadable] == ["broken.jpg"]
    assert "1 unreadable, will be skipped: broken.jpg" in check.summary()
    (tmp_path / "empty").mkdir()
    with pytest.raises(StylerError, match="no images .* in this style folder"):
        check_folder(tmp_path / "empty", "style")


def test_a_dead_trainer_is_recorded_as_failed_by_its_supervisor(tmp_path: Path) -> None:
    write_status(tmp_path, RunStatus("running", 4242, 7))
    (tmp_path / "train.log").write_text("step 7/10  loss 0.5\n")
    assert run_summary(tmp_path).state == "failed"  # said running, and nothing holds the folder
    record_exit(tmp_path, 4242, -9)
    status = read_status(tmp_path)
    assert status is not None and status.state == "failed" and status.step == 7
    assert "killed by SIGKILL (signal 9)" in status.message and "step 7/10" in status.message
    # A command that failed before it had a run to mark: its own one-line error is the message.
    (tmp_path / "status.json").unlink()
    (tmp_path / "train.log").write_text("styler: error: device 'cuda' asked for, but no CUDA GPU is usable here\n")
    record_exit(tmp_path, 4343, 1)
    assert read_status(tmp_path).message == "device 'cuda' asked for, but no CUDA GPU is usable here"  # type: ignore[union-attr]
    # A trainer that said how it ended keeps its own words.
    write_status(tmp_path, RunStatus("stopped", 4242, 7))
    record_exit(tmp_path, 4242, 1)
    assert read_status(tmp_path).state == "stopped"  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    content = write_images(tmp_path / "content", 2, seed=1)
    style = write_images(tmp_path / "style", 1, seed=2)
    init = make_init(tmp_path / "init.safetensors", levels=(4,))
    run_dir = tmp_path / "run"
    config = TrainConfig(str(content), str(style), str(run_dir), init=str(init), steps=3, batch_size=1,
                         load_size=32, crop_size=32, workers=0, save_every=1, sample_every=0, log_every=1)
    real_save, calls = torch.save, []

    def save_until_the_disk_fills(obj, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_until_the_disk_fills)
    with pytest.raises(StylerError, match="(?i)saving step 2 failed: .*no space left on .*device.*the checkpoint of step 1 is intact"):
        train(config, log=lambda _: None)
    assert json.loads((run_dir / "checkpoint.json").read_text())["step"] == 1
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["step"] == 1
    assert not list(run_dir.glob(".checkpoint.pt.*"))  # no partial file left behind
    summary = run_summary(run_dir)
    assert summary.state == "failed" and "intact" in summary.message and summary.can_resume
