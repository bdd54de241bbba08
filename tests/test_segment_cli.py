"""`styler stylize --prompt` and `styler segment` end to end, as a user runs them, with a
local CLIPSeg folder given by --segmenter."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main as cli_main
from tests.conftest import random_photo
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def files(tmp_path):
    return random_photo(tmp_path / "photo.png", (72, 56), seed=11), random_photo(tmp_path / "s.png", (48, 40), seed=12)


def test_stylize_with_prompt_and_save_mask(tmp_path, model_path, clipseg_dir, files, capsys):
    photo, style = files
    before = _digest(photo)
    out = tmp_path / "out.png"
    rc = cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path),
        "--segmenter", str(clipseg_dir), "--prompt", "the bed", "--save-mask", "-o", str(out),
    ])
    assert rc == 0, capsys.readouterr().err
    assert _digest(photo) == before
    with Image.open(tmp_path / "out.mask.png") as m:
        assert m.mode == "L" and m.size == (72, 56)
        mask = np.asarray(m)
    assert 0 < (mask > 0).mean() < 1
    result, original = np.asarray(Image.open(out)), np.asarray(Image.open(photo))
    assert np.array_equal(result[mask == 0], original[mask == 0])
    assert not np.array_equal(result[mask == 255], original[mask == 255])


def test_segment_writes_the_same_mask_stylize_uses(tmp_path, model_path, clipseg_dir, files):
    photo, style = files
    args = ["--prompt", "the bed", "--prompt", "a lamp", "--negative", "the floor", "--grow", "2"]
    assert cli_main(["segment", str(photo), "--segmenter", str(clipseg_dir), "-o", str(tmp_path / "m.png"), *args]) == 0
    assert cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path), "--segmenter",
        str(clipseg_dir), "--save-mask", "-o", str(tmp_path / "o.png"), *args,
    ]) == 0
    assert _digest(tmp_path / "m.png") == _digest(tmp_path / "o.mask.png")


def test_prompt_matching_nothing_is_reported_not_failed(tmp_path, model_path, clipseg_dir, files, capsys):
    photo, style = files
    rc = cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path),
        "--segmenter", str(clipseg_dir), "--prompt", "the bed", "--threshold", "1", "-o", str(tmp_path / "o.png"),
    ])
    assert rc == 0
    assert f"prompt matched nothing in {photo}" in capsys.readouterr().err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), np.asarray(Image.open(photo)))


def test_missing_segmenter_is_one_line(tmp_path, model_path, files, capsys):
    photo, style = files
    rc = cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path),
        "--segmenter", str(tmp_path / "no-clipseg"), "--prompt", "sky", "-o", str(tmp_path / "o.png"),
    ])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1
    assert "no-clipseg: segmenter folder not found" in err
    assert not (tmp_path / "o.png").exists()


def test_no_installed_segmenter_names_where_it_looked(tmp_path, files, capsys):
    photo, _ = files
    assert cli_main(["segment", str(photo), "--prompt", "sky"]) == 1
    err = capsys.readouterr().err
    assert "segmenter" in err and "clipseg" in err.lower() and err.count("\n") == 1


def test_invert_without_prompt_is_a_usage_error(tmp_path, model_path, files, capsys):
    photo, style = files
    rc = cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path), "--invert"])
    assert rc == 1 and "--invert needs --prompt" in capsys.readouterr().err


def test_save_mask_never_overwrites_an_input(tmp_path, model_path, files, capsys):
    _, style = files
    photo = random_photo(tmp_path / "a.mask.png", (32, 32), seed=3)
    rc = cli_main([
        "stylize", str(photo), "--style", str(style), "--model", str(model_path),
        "--save-mask", "-o", str(tmp_path / "a.mask.png".replace(".mask", "")),
    ])
    assert rc == 1 and "would overwrite the input" in capsys.readouterr().err
