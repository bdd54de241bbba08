"""Two CPU processes under torchrun (gloo): DDP training writes one run, from rank 0."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.checkpoint import load_model, read_model_info
from tests.test_train import make_init, run_train, single_thread, write_images  # noqa: F401 (autouse fixture)

REPO = Path(__file__).resolve().parents[1]
# Only the train command: this test is about DDP, not about every subcommand importing.
LAUNCHER = """
import argparse, sys
from engine.commands import train
parser = argparse.ArgumentParser()
train.register(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.run(args))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_run(tmp_path: Path) -> None:
    content = write_images(tmp_path / "content", 4, seed=1)
    style = write_images(tmp_path / "style", 2, seed=2)
    init = make_init(tmp_path / "init.safetensors", levels=(4, 5))
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(_free_port()), str(launcher),
         "train", "--content", str(content), "--style", str(style), "-o", str(run), "--init", str(init),
         "--steps", "2", "--batch-size", "1", "--load-size", "32", "--crop-size", "32", "--workers", "0",
         "--device", "cpu", "--log-every", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Rank 0 alone logs: one line per step, and the banner once.
    assert proc.stdout.count("training to step 2") == 1
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [1, 2]
    info = read_model_info(run / "model.safetensors")
    assert info.training["world_size"] == 2
    assert json.loads((run / "checkpoint.json").read_text())["images_seen"] == 4  # 2 steps × 2 ranks × 1
    net, _ = load_model(run / "model.safetensors")
    assert net.levels == (4, 5)
    # Two ranks × batch 1 see the samples one process sees at batch 2, and DDP averages the
    # gradients: the losses agree (the weights differ only by Adam's sign on ~0 gradients).
    run_train("--content", content, "--style", style, "-o", tmp_path / "single", "--init", init, "--steps", "2",
              "--batch-size", "2", "--load-size", "32", "--crop-size", "32", "--workers", "0", "--log-every", "1")
    single = [json.loads(line) for line in (tmp_path / "single" / "metrics.jsonl").read_text().splitlines()]
    for ddp_step, single_step in zip(lines, single, strict=True):
        assert ddp_step["loss"] == pytest.approx(single_step["loss"], rel=1e-4)
