"""`--refine` and `--point` as a user runs them: SAM 2 installed (imported from a folder)
or not, `styler segment` and `styler stylize` end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main as cli_main
from engine.models.folder import models_dir
from engine.models.install import import_path
from engine.refiner import load_refiner
from tests.conftest import random_photo
from tests.test_refine import PromptRecorder, rotated_photo  # noqa: F401 (fixture)
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)
from tests.tiny_sam2 import IMAGE_SIZE, sam2_dir  # noqa: F401 (fixture)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    return random_photo(tmp_path / "photo.png", (72, 56), seed=11)


def test_refine_none_reproduces_the_clipseg_mask_and_sam_is_the_default(tmp_path, clipseg_dir, sam2_dir, photo):
    def segment(name: str, *extra: str) -> Path:
        out = tmp_path / name
        assert cli_main(["segment", str(photo), "--segmenter", str(clipseg_dir), "--prompt", "the bed",
                         "--negative", "a lamp", "--device", "cpu", "-o", str(out), *extra]) == 0
        return out

    before = segment("before.png")  # no SAM 2 installed: today's mask
    import_path(sam2_dir)
    assert _digest(segment("none.png", "--refine", "none")) == _digest(before)
    refined = segment("default.png")
    assert _digest(refined) != _digest(before)
    assert _digest(refined) == _digest(segment("sam.png", "--refine", "sam"))


def test_clicks_follow_the_photo_through_max_size(tmp_path, clipseg_dir, sam2_dir, rotated_photo):
    import_path(sam2_dir)
    refiner = load_refiner(models_dir() / "sam2", "cpu")  # the instance the command will use
    recorder = PromptRecorder(refiner)
    try:
        assert cli_main(["segment", str(rotated_photo), "--point", "10,100", "--point", "-60,5", "--max-size", "50",
                         "--device", "cpu", "-o", str(tmp_path / "m.png")]) == 0
    finally:
        recorder.close()
    width, height = 72, 120  # upright size of the photo, in whose pixels the clicks are given
    points = [call["input_points"].flatten().tolist() for call in recorder.calls]
    assert points == [
        pytest.approx([(x + 0.5) * IMAGE_SIZE / width, (y + 0.5) * IMAGE_SIZE / height], abs=1e-3)
        for x, y in [(10, 100), (60, 5)]
    ]
    with Image.open(tmp_path / "m.png") as mask:
        assert mask.size == (30, 50)


def test_stylize_with_a_click_leaves_the_rest_bit_identical(tmp_path, model_path, sam2_dir, photo):
    import_path(sam2_dir)
    style = random_photo(tmp_path / "style.png", (48, 40), seed=12)
    before = _digest(photo)
    out = tmp_path / "out.png"
    rc = cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path), "--point", "30,20",
                   "--grow", "-6", "--feather", "2", "--save-mask", "--device", "cpu",
                   "-o", str(out)])
    assert rc == 0
    assert _digest(photo) == before
    mask = np.asarray(Image.open(tmp_path / "out.mask.png"))
    assert 0 < (mask == 0).mean() < 1
    result, original = np.asarray(Image.open(out)), np.asarray(Image.open(photo))
    assert np.array_equal(result[mask == 0], original[mask == 0])
    assert not np.array_equal(result[mask == 255], original[mask == 255])


def test_click_problems_are_one_line(tmp_path, sam2_dir, photo, capsys):
    out = str(tmp_path / "m.png")
    assert cli_main(["segment", str(photo), "--point", "3,4", "-o", out]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "styler models download sam2" in err
    import_path(sam2_dir)
    assert cli_main(["segment", str(photo), "--point", "3,4", "--refine", "none", "-o", out]) == 1
    assert "--point needs SAM 2; drop --refine none" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["segment", str(photo), "--point", "3;4", "-o", out])
    assert exit_info.value.code == 2 and "expected X,Y or -X,Y" in capsys.readouterr().err
    assert not Path(out).exists()
