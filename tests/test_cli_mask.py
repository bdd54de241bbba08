"""`styler stylize --mask FILE`: a mask painted elsewhere takes the Pipeline's mask path, is
checked like any image input, and is never written over."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main as cli_main
from tests.conftest import random_photo


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    photo = random_photo(tmp_path / "photo.png", (96, 64), seed=2)
    style = random_photo(tmp_path / "style.png", (48, 48), seed=1)
    mask = np.zeros((64, 96), np.uint8)
    mask[16:40, 24:60] = 255  # white: stylise; black: keep
    Image.fromarray(mask, mode="L").save(tmp_path / "painted.png")
    return photo, style, tmp_path / "painted.png"


def test_the_painted_region_is_stylised_and_the_rest_kept(tmp_path, model_path, files) -> None:
    photo, style, mask = files
    out = tmp_path / "out.png"
    rc = cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path), "--mask", str(mask), "-o", str(out)])
    assert rc == 0
    before = np.asarray(Image.open(photo).convert("RGB"), dtype=np.int16)
    after = np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)
    painted = np.asarray(Image.open(mask)) > 0
    assert np.array_equal(after[~painted], before[~painted])  # bit for bit outside the mask
    assert np.abs(after[painted] - before[painted]).mean() > 1  # stylised inside


def test_a_mask_at_half_size_is_scaled_and_one_of_another_shape_refused(tmp_path, model_path, files, capsys) -> None:
    photo, style, _ = files
    half = np.zeros((32, 48), np.uint8)
    half[8:20, 12:30] = 255
    Image.fromarray(half, mode="L").save(tmp_path / "half.png")
    args = ["stylize", str(photo), "--style", str(style), "--model", str(model_path), "-o", str(tmp_path / "out.png")]
    assert cli_main([*args, "--mask", str(tmp_path / "half.png")]) == 0
    Image.fromarray(np.zeros((64, 64), np.uint8), mode="L").save(tmp_path / "square.png")
    capsys.readouterr()
    assert cli_main([*args, "--mask", str(tmp_path / "square.png"), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "the mask is 64×64 pixels but the image is 96×64" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("case", ["missing", "not an image", "with a prompt"])
def test_a_bad_mask_is_one_clear_line(tmp_path, model_path, files, capsys, case) -> None:
    photo, style, mask = files
    notes = tmp_path / "notes.png"
    notes.write_text("not an image")
    extra = {
        "missing": ["--mask", str(tmp_path / "nowhere.png")],
        "not an image": ["--mask", str(notes)],
        "with a prompt": ["--mask", str(mask), "--prompt", "sky"],
    }[case]
    expected = {"missing": "nowhere.png: file not found", "not an image": "notes.png", "with a prompt": "--mask replaces --prompt"}[case]
    rc = cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path), *extra, "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert rc == 1 and expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("target", ["mask", "style"])
def test_no_input_is_an_output_target(tmp_path, model_path, files, capsys, target) -> None:
    photo, style, mask = files
    victim = mask if target == "mask" else style
    before = _digest(victim)
    rc = cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path),
        "--mask", str(mask), "-o", str(victim), "--overwrite",
    ])
    assert rc == 1 and "would overwrite the input" in capsys.readouterr().err
    assert _digest(victim) == before


def test_save_mask_never_writes_over_the_mask_read(tmp_path, model_path, files, capsys) -> None:
    photo, style, mask = files
    read = mask.rename(tmp_path / "out.mask.png")  # what --save-mask would write for -o out.png
    before = _digest(read)
    rc = cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path),
        "--mask", str(read), "--save-mask", "-o", str(tmp_path / "out.png"), "--overwrite",
    ])
    assert rc == 1 and "would overwrite the input" in capsys.readouterr().err
    assert _digest(read) == before and not (tmp_path / "out.png").exists()
