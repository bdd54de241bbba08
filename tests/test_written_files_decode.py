"""Bug 2 of issue 12: every kind of TIFF in gives a readable file out, and a file that does
not decode is never put in place (it becomes an error, or a failed batch entry)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.batch import MANIFEST_NAME
from engine.cli import main as cli_main
from engine.errors import StylerError
from engine.image_io import load_image, save_image
from tests.conftest import random_photo


def _tiff(path, kind: str):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    grey = (rng.random((28, 36)) * 255).astype(np.uint8)
    image = {
        "grey": Image.fromarray(grey),
        "bilevel": Image.fromarray(grey > 128),
        "cmyk": Image.fromarray(np.stack([grey] * 3, 2)).convert("CMYK"),
        "16bit": Image.fromarray(grey.astype(np.uint16) * 257),
        "float": Image.fromarray(grey.astype(np.float32) / 255, mode="F"),
    }[kind]
    image.save(path)
    return path


KINDS = ["grey", "bilevel", "cmyk", "16bit", "float"]


def _decodes(path) -> tuple[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    with Image.open(path) as img:
        img.load()
        return img.mode, img.size


@pytest.mark.parametrize("kind", KINDS)
def test_stylize_any_tiff_writes_a_readable_tiff(tmp_path, model_path, kind):
    source = _tiff(tmp_path / f"{kind}.tif", kind)
    style = random_photo(tmp_path / "s.png", (32, 32))
    out = tmp_path / "out.tif"
    assert cli_main(["stylize", str(source), "--style", str(style), "--model", str(model_path),
                     "-o", str(out), "--style-size", "32"]) == 0
    assert _decodes(out) == ("RGB", (36, 28))


def test_batch_of_tiffs_records_only_readable_outputs_as_done(tmp_path, model_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    for kind in KINDS:
        _tiff(in_dir / f"{kind}.tif", kind)
    style = random_photo(tmp_path / "s.png", (32, 32))
    assert cli_main(["batch", str(in_dir), "--style", str(style), "--model", str(model_path),
                     "-o", str(out_dir), "--style-size", "32", "-q"]) == 0
    entries = [json.loads(line) for line in (out_dir / MANIFEST_NAME).read_text().splitlines()]
    assert sorted(e["output"] for e in entries if e["status"] == "ok") == sorted(f"{k}.tif" for k in KINDS)
    for kind in KINDS:
        assert _decodes(out_dir / f"{kind}.tif")[0] == "RGB"


def test_camera_exif_is_kept_but_tiff_layout_is_not(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif[0x0112] = 1
    exif[0x0102] = 16  # BitsPerSample: layout, not metadata
    exif[0x0106] = 1  # PhotometricInterpretation
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"  # DateTimeOriginal, in the EXIF sub-IFD
    source = random_photo(tmp_path / "in.jpg", (20, 10), exif=exif.tobytes())
    loaded = load_image(source)
    out = save_image(tmp_path / "out.tif", loaded.rgb, exif=loaded.exif)
    with Image.open(out) as written:
        written.load()
        tags = written.getexif()
        assert tags[0x010F] == "Camera Maker"
        assert tags.get_ifd(0x8769)[0x9003] == "2024:01:02 03:04:05"
        assert tags[0x0102] == (8, 8, 8)  # the written file's own layout, not the source's


def test_a_written_file_that_does_not_decode_is_never_put_in_place(tmp_path):
    # A writer bug, simulated by metadata that contradicts the pixels: the TIFF written with
    # it cannot be decoded. It must become an error, and nothing may replace the target.
    layout = Image.Exif()
    layout[0x0102] = (16, 16, 16)  # BitsPerSample
    layout[0x0153] = (3, 3, 3)  # SampleFormat: float
    target = tmp_path / "out.tif"
    target.write_bytes(b"previous result")
    with pytest.raises(StylerError, match="does not decode|is not a"):
        save_image(target, np.zeros((6, 8, 3), np.float32), exif=layout.tobytes())
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"]  # no temporary left
