"""`styler stylize` end to end, as a user runs it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main as cli_main
from tests.conftest import random_photo


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def photos(tmp_path):
    style = random_photo(tmp_path / "style.png", (70, 50), seed=1)
    odd = random_photo(tmp_path / "odd.jpg", (83, 41), seed=2)
    exif = Image.Exif()
    exif[0x0112] = 8
    turned = random_photo(tmp_path / "turned.jpg", (40, 24), seed=3, exif=exif.tobytes())
    return style, odd, turned


def test_writes_next_to_input_with_same_size_and_never_touches_input(tmp_path, model_path, photos):
    style, odd, turned = photos
    before = {p: _digest(p) for p in (style, odd, turned)}
    rc = cli_main(["stylize", str(odd), str(turned), "--style", str(style), "--model", str(model_path)])
    assert rc == 0
    with Image.open(tmp_path / "odd.styled.jpg") as out:
        assert out.size == (83, 41)
    with Image.open(tmp_path / "turned.styled.jpg") as out:
        assert out.size == (24, 40)  # upright
        assert out.getexif().get(0x0112, 1) == 1
    assert before == {p: _digest(p) for p in (style, odd, turned)}


def test_output_file_folder_and_format(tmp_path, model_path, photos):
    style, odd, turned = photos
    assert cli_main(["stylize", str(odd), "--style", str(style), "--model", str(model_path),
                     "-o", str(tmp_path / "result.webp"), "--max-size", "40"]) == 0
    with Image.open(tmp_path / "result.webp") as out:
        assert out.format == "WEBP" and out.size == (40, 20)
    folder = tmp_path / "outs"
    assert cli_main(["stylize", str(odd), str(turned), "--style", str(style), "--model",
                     str(model_path), "-o", str(folder), "--strength", "0.5", "--preserve-color"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["odd.jpg", "turned.jpg"]


def test_max_size_equal_to_image_means_no_resize(tmp_path, model_path):
    style = random_photo(tmp_path / "s.png", (64, 64), seed=1)
    content = random_photo(tmp_path / "c.png", (64, 64), seed=2)
    assert cli_main(["stylize", str(content), "--style", str(style), "--model", str(model_path),
                     "--max-size", "64", "-o", str(tmp_path / "a.png")]) == 0
    assert cli_main(["stylize", str(content), "--style", str(style), "--model", str(model_path),
                     "-o", str(tmp_path / "b.png")]) == 0
    a = np.asarray(Image.open(tmp_path / "a.png"))
    assert np.array_equal(a, np.asarray(Image.open(tmp_path / "b.png")))


def test_style_attention_and_seed_reach_the_engine(tmp_path, model_path):
    """A 264-px style has more than 4096 relu3_1 positions, so each choice changes pixels;
    the default is the release's subset with the authors' seed, the same on every run."""
    style = random_photo(tmp_path / "s.png", (264, 264), seed=1)
    content = random_photo(tmp_path / "c.png", (48, 64), seed=2)

    def stylize(name: str, *options: str) -> np.ndarray:
        assert cli_main(["stylize", str(content), "--style", str(style), "--model", str(model_path),
                         "--style-size", "0", "-o", str(tmp_path / name), *options]) == 0
        return np.asarray(Image.open(tmp_path / name)).astype(int)

    default = stylize("default.png")
    assert np.array_equal(default, stylize("authors.png", "--style-attention", "release", "--seed", "6666"))
    for name, options in [("seed.png", ("--seed", "1")), ("pooled.png", ("--style-attention", "pooled"))]:
        assert np.abs(default - stylize(name, *options)).max() > 2, name


def test_alpha_survives(tmp_path, model_path):
    style = random_photo(tmp_path / "s.png", (40, 40), seed=1)
    rgba = np.zeros((30, 20, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = 77
    Image.fromarray(rgba, "RGBA").save(tmp_path / "c.png")
    assert cli_main(["stylize", str(tmp_path / "c.png"), "--style", str(style), "--model", str(model_path)]) == 0
    with Image.open(tmp_path / "c.styled.png") as out:
        assert out.mode == "RGBA" and np.asarray(out)[..., 3].max() == 77


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, timeout=120)


def test_bad_inputs_give_one_line_and_nonzero_exit(tmp_path, model_path, photos):
    style, odd, _ = photos
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("just text")
    foreign = tmp_path / "foreign.safetensors"
    foreign.write_bytes(b"\x00" * 64)
    cases = [
        (["stylize", str(tmp_path / "missing.jpg"), "--style", str(style), "--model", str(model_path)], "missing.jpg: file not found"),
        (["stylize", str(not_image), "--style", str(style), "--model", str(model_path)], "notes.jpg: not an image"),
        (["stylize", str(odd), "--style", str(style), "--model", str(foreign)], "foreign.safetensors"),
        (["stylize", str(odd), "--style", str(style), "--model", str(model_path), "--device", "cuda:7"], "device"),
        (["stylize", str(odd), "--style", str(style), "--model", str(model_path), "-o", str(odd)], "would overwrite an input"),
        (["stylize", str(odd), "--style", str(style)], "styler models"),
    ]
    # Two at a time: each process spends seconds importing torch on one core, and the
    # suite's own process leaves the second core idle meanwhile.
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda case: run_cli(*case[0]), cases))
    for (args, expected), result in zip(cases, results, strict=True):
        assert result.returncode != 0, args
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_existing_output_is_not_overwritten_without_flag(tmp_path, model_path, photos):
    style, odd, _ = photos
    target = tmp_path / "odd.styled.jpg"
    target.write_bytes(b"an earlier result")
    assert cli_main(["stylize", str(odd), "--style", str(style), "--model", str(model_path)]) == 1
    assert target.read_bytes() == b"an earlier result"
    assert cli_main(["stylize", str(odd), "--style", str(style), "--model", str(model_path), "--overwrite"]) == 0
    assert target.read_bytes() != b"an earlier result"


def test_debug_shows_the_traceback(tmp_path, model_path, photos):
    style, _, _ = photos
    result = run_cli("--debug", "stylize", str(tmp_path / "missing.jpg"), "--style", str(style), "--model", str(model_path))
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("styler ")
    help_text = run_cli("--help").stdout
    assert "stylize" in help_text and "models" in help_text
