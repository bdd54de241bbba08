"""`styler train` end to end on tiny synthetic folders (32 px crops, batch 2, a few steps)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.checkpoint import load_model, read_model_info, save_model
from engine.commands import train as train_command
from engine.errors import StylerError
from engine.network import StyleNet, StyleNetConfig
from engine.train.stop import StopWatcher

TINY = ["--batch-size", "2", "--load-size", "40", "--crop-size", "32", "--workers", "0"]


def run_train(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser()
    train_command.register(parser.add_subparsers())
    args = parser.parse_args(["train", *map(str, argv)])
    return args.run(args)


def write_images(folder: Path, count: int, seed: int, sizes=((48, 56), (40, 64), (72, 40))) -> Path:
    rng = np.random.default_rng(seed)
    for i in range(count):
        h, w = sizes[i % len(sizes)]
        sub = folder / ("nested" if i % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        # Smooth gradients plus noise: something with structure for the losses to act on.
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        base = np.stack([yy, xx, 1 - yy], axis=2) * rng.random(3)
        pixels = np.clip(base + 0.3 * rng.random((h, w, 3)), 0, 1)
        Image.fromarray((pixels * 255).astype(np.uint8)).save(sub / f"img{i}.png")
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("data")
    return write_images(root / "content", 3, seed=1), write_images(root / "style", 2, seed=2)


def make_init(path: Path, levels: tuple[int, ...] = (3, 4, 5)) -> Path:
    """A random full-size model to fine-tune. The encoder gets He initialisation so that its
    features keep their scale through 13 convs, as a trained VGG's do (PyTorch's default
    init shrinks them towards the normalisation eps, where no loss can guide training)."""
    torch.manual_seed(0)
    net = StyleNet(StyleNetConfig(levels=levels))
    for module in net.encoder.modules():
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size == (3, 3):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            torch.nn.init.zeros_(module.bias)
    return save_model(net, path)


@pytest.fixture(scope="module")
def init(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_init(tmp_path_factory.mktemp("init") / "init.safetensors")


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    """Tiny tensors gain nothing from a second thread, and on a busy shared machine
    OpenMP's spinning threads make each step many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_model(path)[0].state_dict()


def test_twenty_steps_reduce_the_loss_and_write_the_run(tmp_path: Path, init: Path) -> None:
    # One fixed pair, no crop jitter: the loss has to go down.
    content = write_images(tmp_path / "c", 1, seed=3)
    style = write_images(tmp_path / "s", 1, seed=4)
    run = tmp_path / "run"
    rc = run_train("--content", content, "--style", style, "-o", run, "--init", init, "--steps", "20",
                   *TINY, "--load-size", "32", "--lr", "5e-5", "--log-every", "1", "--sample-every", "10")
    assert rc == 0
    losses = [m["loss"] for m in metrics(run)]
    assert [m["step"] for m in metrics(run)] == list(range(1, 21))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3])
    first = metrics(run)[0]
    assert {"loss", "global", "local", "skew", "content", "lr", "images_per_s", "seconds"} <= set(first)
    assert first["loss"] == pytest.approx(10 * first["global"] + 3 * first["local"], rel=1e-3)
    # The model file works with the stylize path at once and records how it was made.
    info = read_model_info(run / "model.safetensors")
    assert info.training["step"] == 20 and info.training["lambda_global"] == 10.0
    assert info.provenance["init"] == str(init)
    net, _ = load_model(run / "model.safetensors")
    assert net(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    assert json.loads((run / "config.json").read_text())["steps"] == 20
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000010.png", "step_0000020.png"]
    with Image.open(run / "samples" / "step_0000020.png") as grid:
        assert grid.size == (2 * 34 + 2, 2 * 34 + 2)  # (1 style + 1) × (1 content + 1) tiles of 32 + padding


def test_resume_reproduces_an_uninterrupted_run(tmp_path: Path, data: tuple[Path, Path], init: Path) -> None:
    content, style = data
    common = ["--content", content, "--style", style, "--init", init, *TINY, "--log-every", "1"]
    run_train(*common, "-o", tmp_path / "straight", "--steps", "4")
    run_train(*common, "-o", tmp_path / "split", "--steps", "2")
    # Resume needs only the run folder; a different worker count must not change the data.
    assert run_train("-o", tmp_path / "split", "--resume", "--steps", "4", "--workers", "2") == 0
    straight, split = weights(tmp_path / "straight" / "model.safetensors"), weights(tmp_path / "split" / "model.safetensors")
    for name, tensor in straight.items():
        torch.testing.assert_close(split[name], tensor, rtol=0, atol=1e-6, msg=name)
    assert [m["step"] for m in metrics(tmp_path / "split")] == [m["step"] for m in metrics(tmp_path / "straight")]
    # Changing what the weights depend on is refused rather than silently mixed.
    with pytest.raises(StylerError, match="lambda_global"):
        run_train("-o", tmp_path / "split", "--resume", "--steps", "8", "--lambda-global", "1")
    with pytest.raises(StylerError, match="already holds a training run"):
        run_train(*common, "-o", tmp_path / "split", "--steps", "8")


def test_stop_file_saves_a_checkpoint_and_exits_cleanly(tmp_path: Path, data: tuple[Path, Path], init: Path) -> None:
    content, style = data
    run = tmp_path / "run"
    run.mkdir()
    (run / "STOP").touch()  # stale, from an earlier session: must not stop the new run

    def request_stop_once_training() -> None:  # what the GUI does while the run goes on
        while not (run / "metrics.jsonl").exists():
            time.sleep(0.01)
        (run / "STOP").touch()

    requester = threading.Thread(target=request_stop_once_training, daemon=True)
    requester.start()
    rc = run_train("--content", content, "--style", style, "--init", init, *TINY, "-o", run, "--steps", "200",
                   "--log-every", "1")
    requester.join(timeout=10)
    assert rc == 0
    step = json.loads((run / "checkpoint.json").read_text())["step"]
    assert 1 <= step < 200
    assert read_model_info(run / "model.safetensors").training["step"] == step
    assert not (run / "STOP").exists()  # honoured and consumed, so --resume continues
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == step and "optimizer" in state


def test_signals_request_a_stop(tmp_path: Path) -> None:
    with StopWatcher(tmp_path) as stop:
        assert not stop.requested()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_levels_subset_and_unreadable_files(tmp_path: Path, data: tuple[Path, Path], init: Path) -> None:
    content, style = data
    broken = tmp_path / "content"
    write_images(broken, 2, seed=5)
    (broken / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    run = tmp_path / "run"
    rc = run_train("--content", broken, "--style", style, "--init", init, *TINY, "-o", run,
                   "--steps", "2", "--levels", "3,5", "--log-every", "1")
    assert rc == 0
    net, info = load_model(run / "model.safetensors")
    assert net.levels == (3, 5) and info.training["levels"] == [3, 5]
    assert metrics(run)[-1]["skipped_files"] == 1


def test_from_scratch_with_a_vgg_normalised_encoder(tmp_path: Path, data: tuple[Path, Path], release_dir: Path) -> None:
    content, style = data
    encoder = release_dir.parent / "vgg_normalised.pth"
    run = tmp_path / "run"
    assert run_train("--content", content, "--style", style, "--encoder", encoder, *TINY, "-o", run, "--steps", "1") == 0
    net, info = load_model(run / "model.safetensors")
    release = torch.load(encoder, weights_only=True)
    torch.testing.assert_close(net.encoder.state_dict()["layers.2.weight"], release["2.weight"])
    assert info.provenance["encoder_kind"] == "vgg_normalised"


def test_clear_errors_before_anything_starts(tmp_path: Path, data: tuple[Path, Path], init: Path) -> None:
    content, style = data
    with pytest.raises(StylerError, match="--init MODEL"):
        run_train("--content", content, "--style", style, "-o", tmp_path / "a", *TINY)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StylerError, match="no images"):
        run_train("--content", tmp_path / "empty", "--style", style, "-o", tmp_path / "b", "--init", init, *TINY)
    with pytest.raises(StylerError, match="multiple of 16"):
        run_train("--content", content, "--style", style, "-o", tmp_path / "c", "--init", init, *TINY,
                  "--crop-size", "30")
    with pytest.raises(StylerError, match="nothing to resume"):
        run_train("-o", tmp_path / "d", "--resume")
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_encoder_files_are_recognised(tmp_path: Path, init: Path) -> None:
    from engine.encoder import VGGEncoder
    from engine.train.build import read_encoder

    torchvision_like = {f"features.{k.removeprefix('layers.')}": v for k, v in VGGEncoder("torchvision").state_dict().items()}
    torchvision_like["classifier.0.weight"] = torch.zeros(2, 2)  # the rest of vgg19, ignored
    torch.save(torchvision_like, tmp_path / "vgg19.pth")
    kind, state = read_encoder(tmp_path / "vgg19.pth")
    assert kind == "torchvision" and torch.equal(state["layers.0.weight"], torchvision_like["features.0.weight"])
    kind, state = read_encoder(init)  # a Styler model lends its encoder
    assert kind == "vgg_normalised" and "layers.0.weight" in state
    torch.save({"something.else": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(StylerError, match="not a VGG-19 encoder"):
        read_encoder(tmp_path / "other.pth")
