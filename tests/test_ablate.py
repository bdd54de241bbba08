"""`styler ablate` on a tiny budget writes its grid, plots and report; a stop request (the
folder's STOP file, or Ctrl-C) stops it and --resume completes it; the plot helper draws."""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

import pytest
from PIL import Image

from engine.checkpoint import read_model_info
from engine.commands import ablate as ablate_command
from engine.errors import StylerError
from engine.train.ablate import run_study, seconds_per_step, variants
from engine.train.config import TrainConfig
from engine.train.plots import line_plot
from engine.train.runs import list_runs, run_summary
from tests.test_train import make_init, single_thread, write_images  # noqa: F401 (autouse fixture)


def run_ablate(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser()
    ablate_command.register(parser.add_subparsers())
    args = parser.parse_args(["ablate", *map(str, argv)])
    return args.run(args)


def test_skew_study_writes_grid_plots_and_report(tmp_path: Path) -> None:
    content = write_images(tmp_path / "content", 2, seed=1)
    style = write_images(tmp_path / "style", 1, seed=2)
    init = make_init(tmp_path / "init.safetensors", levels=(4,))
    out = tmp_path / "out"
    argv = ["skew", "--content", content, "--style", style, "-o", out, "--init", init, "--steps", "2",
            "--batch-size", "1", "--load-size", "32", "--crop-size", "32", "--workers", "0", "--log-every", "1"]
    assert run_ablate(*argv) == 0
    assert read_model_info(out / "runs" / "skew" / "model.safetensors").training["lambda_skew"] == 1.0
    assert read_model_info(out / "runs" / "no-skew" / "model.safetensors").training["lambda_skew"] == 0.0
    with Image.open(out / "grid.png") as grid:
        # Columns: content, style, two variants; rows: two content images; tiles enlarged to 128.
        assert grid.size == (4 * 132 + 4, 22 + 2 * 132 + 4)
    report = (out / "report.md").read_text()
    assert "| without skew |" in report and "| with skew |" in report and "s / step" in report
    for plot in ("loss.png", "global.png", "local.png", "skew.png"):
        with Image.open(out / plot) as image:
            assert f"]({plot})" in report and image.size == (720, 420)
    # Running it again finds the variants finished and only rewrites the report.
    assert run_ablate(*argv) == 0
    with pytest.raises(StylerError, match="lambda_global"):
        run_ablate(*argv, "--lambda-global", "2")


def tiny_study(tmp_path: Path, steps: int) -> TrainConfig:
    content = write_images(tmp_path / "content", 2, seed=1)
    style = write_images(tmp_path / "style", 1, seed=2)
    init = make_init(tmp_path / "init.safetensors", levels=(4,))
    return TrainConfig(str(content), str(style), "", init=str(init), steps=steps, batch_size=1, load_size=32,
                       crop_size=32, workers=0, log_every=1, save_every=0, sample_every=0,
                       lambda_global=1.0, lambda_local=1.0)


def checkpoint_step(run_dir: Path) -> int:
    return int(json.loads((run_dir / "checkpoint.json").read_text())["step"])


def test_a_stop_request_on_the_study_folder_stops_it_and_resume_completes_it(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    base = tiny_study(tmp_path, steps=3)
    out = tmp_path / "studies" / "skew"

    def stop_after_the_first_step(line: str) -> None:  # the app's Stop: OUT/STOP, mid-variant
        if line.startswith("step 1/"):
            (out / "STOP").touch()

    result = run_study("skew", base, out, log=stop_after_the_first_step)
    assert result.stopped and result.report is not None
    assert checkpoint_step(out / "runs" / "no-skew") == 1  # the running variant saved where it stopped
    assert run_summary(out / "runs" / "no-skew").state == "stopped"
    assert not (out / "runs" / "skew").exists()  # and the study started no further variant
    assert not (out / "STOP").exists()  # honoured: a resume does not stop at once
    summary = run_summary(out)
    assert summary.state == "stopped" and summary.can_resume and "not run: with skew" in summary.message
    assert summary.study is not None and summary.study.not_run == ["with skew"]
    assert summary.study.describe() == "variant 1 of 2 (without skew)" and (summary.step, summary.steps) == (1, 3)
    assert [run.run_dir for run in list_runs(out.parent)] == [out]  # the runs list finds the study
    report = (out / "report.md").read_text()
    assert "**Not complete:** stopped in variant 1 of 2 (without skew) at step 1 of 3" in report
    assert "not run: with skew" in report and "| without skew (stopped at 1) |" in report

    capsys.readouterr()
    assert run_ablate("--resume", "-o", out) == 0
    assert "training from step 1 to step 3" in capsys.readouterr().out  # from the checkpoint, not afresh
    assert checkpoint_step(out / "runs" / "no-skew") == 3 and checkpoint_step(out / "runs" / "skew") == 3
    summary = run_summary(out)
    assert summary.state == "finished" and summary.study is not None and summary.study.not_run == []
    report = (out / "report.md").read_text()
    assert "Not complete" not in report and "| with skew |" in report
    with pytest.raises(StylerError, match="--resume: study was 'skew' in this ablation, 'levels' now"):
        run_ablate("levels", "--resume", "-o", out)


def test_ctrl_c_or_a_variants_own_stop_request_stops_the_study(tmp_path: Path) -> None:
    base = tiny_study(tmp_path, steps=3)
    out = tmp_path / "study"
    before = signal.getsignal(signal.SIGINT)

    def interrupt_after_the_first_step(line: str) -> None:
        if line.startswith("step 1/"):
            os.kill(os.getpid(), signal.SIGINT)

    result = run_study("skew", base, out, log=interrupt_after_the_first_step)
    assert result.stopped and "stopped in variant 1 of 2" in result.message
    assert checkpoint_step(out / "runs" / "no-skew") == 1 and not (out / "runs" / "skew").exists()
    assert run_summary(out).state == "stopped"
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl-C is Python's again once the study ends

    def interrupt_twice(line: str) -> None:
        if line.startswith("step 1/"):
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C does not wait for the checkpoint
        run_study("skew", base, tmp_path / "impatient", log=interrupt_twice)
    assert run_summary(tmp_path / "impatient").state == "failed"

    variant_stopped = tmp_path / "variant-stopped"

    def stop_the_variant(line: str) -> None:  # its own run folder's STOP, as for any run
        if line.startswith("step 1/"):
            (variant_stopped / "runs" / "no-skew" / "STOP").touch()

    result = run_study("skew", base, variant_stopped, log=stop_the_variant)
    assert result.stopped and not (variant_stopped / "runs" / "skew").exists()


def test_study_variants_follow_the_seed() -> None:
    assert [v.overrides["levels"] for v in variants("levels")] == [[3, 4, 5], [3, 5], [3, 4]]
    pairs = [(v.overrides["lambda_global"], v.overrides["lambda_local"]) for v in variants("loss-weights")]
    assert pairs == [(1.0, 0.0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0.0, 1.0)]
    assert [v.overrides["lambda_skew"] for v in variants("skew", 0.5)] == [0.0, 0.5]


def test_seconds_per_step_skips_the_warm_up_interval() -> None:
    metrics = [{"step": 5, "step_seconds": 9.0}, {"step": 10, "step_seconds": 1.0}, {"step": 20, "step_seconds": 2.0}]
    assert seconds_per_step(metrics) == pytest.approx((5 * 1.0 + 10 * 2.0) / 15)


def test_line_plot_draws_each_series(tmp_path: Path) -> None:
    path = line_plot({"a": [(0, 1.0), (10, 0.5)], "b": [(0, 2.0), (10, 1.5)]}, "t", "step", "loss", tmp_path / "p.png")
    pixels = Image.open(path).convert("RGB")
    colours = {pixels.getpixel((x, y)) for x in range(pixels.width) for y in range(pixels.height)}
    assert (0, 114, 178) in colours and (213, 94, 0) in colours  # the first two palette colours


def test_an_ablation_under_torchrun_is_refused_before_it_touches_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    out = tmp_path / "out"
    with pytest.raises(StylerError, match="without torchrun"):
        run_study("skew", tiny_study(tmp_path, 1), out)
    assert not out.exists()
