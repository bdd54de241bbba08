"""Issue 12's bugs 6 and 7 and the model/option items of its "also fix" list: thin styles,
--style-size, crafted and broken model files, empty prompts, GIF outputs, early Ctrl-C,
and one rule for CLIPSeg folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main as cli_main
from engine.models.store import installed_models
from engine.stylizer import Stylizer
from tests.conftest import random_photo
from tests.hostile_files import hostile_images, hostile_models
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    return random_photo(tmp_path / "photo.png", (40, 30), seed=2)


@pytest.mark.parametrize("size", [(3, 5000), (5000, 3), (1, 1), (2, 40)])
@pytest.mark.parametrize("style_size", ["512", "0"])
def test_any_image_that_loads_works_as_a_style(tmp_path, model_path, photo, size, style_size):
    style = tmp_path / "thin.png"
    Image.fromarray((np.random.default_rng(0).random((size[1], size[0], 3)) * 255).astype(np.uint8)).save(style)
    out = tmp_path / "out.png"
    assert cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path),
                     "--style-size", style_size, "-o", str(out), "--device", "cpu"]) == 0
    with Image.open(out) as result:
        assert result.size == (40, 30)
        assert np.asarray(result).std() > 0  # a picture, not a blank


def test_style_size_is_validated_and_memory_bounded_before_allocating(tmp_path, model_path, photo, capsys):
    style = random_photo(tmp_path / "s.png", (64, 48))
    base = ["stylize", str(photo), "--style", str(style), "--model", str(model_path), "-o", str(tmp_path / "o.png")]
    with pytest.raises(SystemExit) as usage:
        cli_main([*base, "--style-size", "-1"])
    assert usage.value.code == 2 and "--style-size" in capsys.readouterr().err
    started = time.monotonic()
    assert cli_main([*base, "--style-size", "100000", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "needs about" in err and "GB" in err and "--style-size" in err
    assert time.monotonic() - started < 60  # refused up front, not after trying to allocate


def test_memory_bound_comes_from_the_device(model_path):
    stylizer = Stylizer.from_file(model_path, device="cpu", style_size=None)
    stylizer.check_memory(512, 512, "the photo", "smaller_image")  # fits anywhere
    with pytest.raises(Exception, match="needs about .* GB"):
        stylizer.check_memory(10**6, 10**6, "the photo", "smaller_image")


@pytest.mark.parametrize("kind", ["float_levels", "unknown_encoder", "config_not_object", "nan", "truncated"])
def test_crafted_or_broken_model_files_are_refused_clearly(tmp_path, model_path, photo, kind, capsys):
    bad = hostile_models(tmp_path / "m", model_path)[kind]
    style = random_photo(tmp_path / "s.png", (32, 32))
    assert cli_main(["stylize", str(photo), "--style", str(style), "--model", str(bad), "-o",
                     str(tmp_path / "o.png"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "internal error" not in err
    assert cli_main(["models", "import", str(bad), "--name", "x"]) == 1
    assert "internal error" not in capsys.readouterr().err
    assert not installed_models()


def test_weights_with_nan_or_inf_are_refused_at_import(tmp_path, model_path, capsys):
    models = hostile_models(tmp_path / "m", model_path)
    for kind in ("nan", "inf_pth"):
        assert cli_main(["models", "import", str(models[kind])]) == 1
        assert "NaN or infinite" in capsys.readouterr().err
    assert not installed_models()


def test_a_pickle_that_would_run_code_is_refused_without_torch_advice(tmp_path, model_path, capsys):
    pickled = hostile_models(tmp_path / "m", model_path)["pickle"]
    assert cli_main(["models", "import", str(pickled)]) == 1
    err = capsys.readouterr().err
    assert "not a plain weights file" in err and "was not loaded" in err
    assert "weights_only" not in err


def test_empty_prompt_and_nan_numbers_are_usage_errors(tmp_path, model_path, photo, capsys):
    style = random_photo(tmp_path / "s.png", (32, 32))
    base = ["stylize", str(photo), "--style", str(style), "--model", str(model_path), "-o", str(tmp_path / "o.png")]
    for bad in (["--prompt", ""], ["--prompt", "  "], ["--feather", "nan"], ["--grow", "inf"], ["--seed", "-1"],
                ["--seed", str(2**64)], ["--strength", "nan"]):
        with pytest.raises(SystemExit) as usage:
            cli_main([*base, *bad])
        assert usage.value.code == 2, bad
        assert bad[0] in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_gif_output_is_refused_before_rendering(tmp_path, model_path, capsys, monkeypatch):
    gif = hostile_images(tmp_path / "img")["gif"]
    style = random_photo(tmp_path / "s.png", (32, 32))

    def no_render(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered before the output format was checked")

    monkeypatch.setattr(Stylizer, "from_file", no_render)
    assert cli_main(["stylize", str(gif), "--style", str(style), "--model", str(model_path)]) == 1
    assert "unknown image suffix '.gif'" in capsys.readouterr().err


def test_a_clipseg_folder_saved_by_transformers_is_accepted_by_import_and_segmenter(
    tmp_path, clipseg_dir, photo, capsys  # noqa: F811
):
    assert (clipseg_dir / "processor_config.json").is_file()  # what the installed transformers writes
    assert cli_main(["models", "import", str(clipseg_dir)]) == 0
    assert [m.kind for m in installed_models()] == ["segmenter"]
    assert cli_main(["segment", str(photo), "--prompt", "sky", "-o", str(tmp_path / "m.png"),
                     "--segmenter", str(clipseg_dir), "--device", "cpu"]) == 0
    # And one rule refuses the same incomplete folder both ways.
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in clipseg_dir.iterdir():
        if f.name != "processor_config.json":
            (broken / f.name).write_bytes(f.read_bytes())
    capsys.readouterr()
    assert cli_main(["models", "import", str(broken)]) == 1
    import_err = capsys.readouterr().err
    assert cli_main(["segment", str(photo), "--prompt", "sky", "-o", str(tmp_path / "n.png"),
                     "--segmenter", str(broken), "--device", "cpu"]) == 1
    segment_err = capsys.readouterr().err
    assert "no image processor settings" in import_err and "no image processor settings" in segment_err


def _torch_is_loading(pid: int) -> bool:
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_while_torch_loads_exits_130_quietly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "styler_app", "stylize", "x.jpg", "--style", "y.jpg"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ})
    while not _torch_is_loading(proc.pid) and proc.poll() is None:
        time.sleep(0.005)  # signal once torch's libraries are being mapped, i.e. mid-import
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
