"""scripts/refine_sheet.py with the tiny models: it runs end to end and its panels are the
photo, CLIPSeg's region and SAM 2's region."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import random_photo
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)
from tests.tiny_sam2 import sam2_dir  # noqa: F401 (fixture)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import refine_sheet  # noqa: E402


def test_sheet_of_real_photos(tmp_path, clipseg_dir, sam2_dir, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    random_photo(photos / "cat_chelsea.png", (150, 100), seed=1)  # named like the shared photos,
    random_photo(photos / "coffee.jpg", (90, 120), seed=2)  # whose prompts the script knows
    random_photo(photos / "unknown.png", (50, 50), seed=3)  # no prompt: not on the sheet
    out = tmp_path / "sheet.png"
    assert refine_sheet.main(["--photos", str(photos), "--segmenter", str(clipseg_dir), "--refiner-model",
                              str(sam2_dir), "--device", "cpu", "--width", "120", "-o", str(out)]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert sheet.shape[1] == 360 and sheet.shape[0] == 2 * refine_sheet.LABEL_HEIGHT + 80 + 160
    photo, clipseg, sam = (sheet[:, i * 120:(i + 1) * 120] for i in range(3))
    assert not np.array_equal(photo, clipseg) and not np.array_equal(clipseg, sam)
    assert "cat_chelsea.png: 'the cat'" in capsys.readouterr().out


def test_missing_refiner_is_one_line(tmp_path, clipseg_dir, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (40, 30)).save(photos / "coffee.png")
    assert refine_sheet.main(["--photos", str(photos), "--segmenter", str(clipseg_dir), "-o",
                              str(tmp_path / "s.png")]) == 1
    assert "styler models download sam2" in capsys.readouterr().err
    assert not (tmp_path / "s.png").exists()
