"""The wheel as a user gets it: installed into a fresh venv and run from a folder outside the
checkout, it knows its version, finds its sample styles and stylises a photo headless."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

import engine
from tests.conftest import random_photo
from tests.packaging.conftest import Dist, clean_env, make_venv, run


def test_wheel_and_sdist_carry_what_the_app_reads_at_run_time(dist: Dist) -> None:
    names = set(zipfile.ZipFile(dist.wheel).namelist())
    shipped = Path(engine.__file__).parent / "resources"
    for path in shipped.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"engine/resources/{path.relative_to(shipped).as_posix()}" in names
    assert dist.version == engine.__version__
    metadata = zipfile.ZipFile(dist.wheel).read(f"styler-{dist.version}.dist-info/METADATA").decode()
    assert f"\nVersion: {engine.__version__}\n" in metadata
    sdist = {n.split("/", 1)[1] for n in tarfile.open(dist.sdist).getnames() if "/" in n}
    assert {"CHANGELOG.md", "packaging/make_icons.py", "engine/resources/icons/styler.svg",
            "tests/packaging/test_wheel.py", "Makefile"} <= sdist


def test_installed_wheel_runs_outside_the_checkout(dist: Dist, model_path: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", dist.wheel)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = clean_env(STYLER_HOME=str(tmp_path / "home"))

    where = run([str(venv.bin / "python"), "-c", "import engine, styler_app; print(engine.__file__, styler_app.__file__)"],
                cwd=work, env=env).stdout.split()
    assert all(Path(p).is_relative_to(venv.root) for p in where), where

    assert venv.styler("--version", cwd=work, env=env).stdout.strip() == f"styler {engine.__version__}"

    listed = dict(line.split(maxsplit=1) for line in venv.styler("styles", cwd=work, env=env).stdout.splitlines())
    assert "swirl-night" in listed and len(listed) >= 5
    for path in listed.values():
        with Image.open(path) as image:
            assert Path(path).is_relative_to(venv.root) and image.size[0] > 0

    photo = random_photo(work / "photo.jpg", (72, 40), seed=4)
    venv.styler("stylize", "photo.jpg", "--style", "swirl-night", "--model", str(model_path),
                "--device", "cpu", "--style-size", "64", "-o", "out.png", cwd=work, env=env)
    with Image.open(work / "out.png") as out, Image.open(photo) as original:
        assert out.size == original.size
        assert np.abs(np.asarray(out, float) - np.asarray(original.convert("RGB"), float)).mean() > 1
