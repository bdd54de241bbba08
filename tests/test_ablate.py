"""`styler ablate` on a tiny budget writes its grid, plots and report; the plot helper draws."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from PIL import Image

from engine.checkpoint import read_model_info
from engine.commands import ablate as ablate_command
from engine.errors import StylerError
from engine.train.ablate import seconds_per_step, variants
from engine.train.plots import line_plot
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
