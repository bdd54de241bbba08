"""Fixtures for testing Styler as users install it: wheels built once per test run from a copy
of the source tree, and fresh virtual environments outside the checkout.

A fresh venv gets the wheel with ``--no-deps`` plus a ``.pth`` line naming this venv's
site-packages, so torch, PySide6 & co. are found without downloading them again. (The other
route, ``venv --system-site-packages``, exposes the *base* interpreter's packages, not this
venv's, so it would have no torch.) The ``.pth`` entry comes after the fresh venv's own
site-packages, so the wheel's ``engine``/``styler_app`` win over any editable install here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a source tree holds that is not source: never copied into the build.
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "__pycache__", "*.egg-info",
                                     ".pytest_cache", "results")


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path
    version: str


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def install(self, wheel: Path) -> None:
        """Install (or upgrade to) ``wheel`` with this test run's pip, into this venv."""
        run([sys.executable, "-m", "pip", "--python", str(self.bin / "python"), "install", "-q",
             "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)], cwd=self.root, env=clean_env())

    def styler(self, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run([str(self.bin / "styler"), *args], cwd=cwd, env=env)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def build_dist(out: Path, version: str | None = None) -> Dist:
    """sdist + wheel (the wheel built from the sdist) of a copy of this tree, optionally with
    another version written into the one place it lives."""
    tree = out / "src"
    shutil.copytree(ROOT, tree, ignore=_NOT_SOURCE)
    if version is not None:
        init = tree / "engine" / "__init__.py"
        init.write_text(re.sub(r'__version__ = "[^"]+"', f'__version__ = "{version}"', init.read_text()))
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out / "dist"), str(tree)], cwd=out)
    wheel = next((out / "dist").glob("styler-*.whl"))
    sdist = next((out / "dist").glob("styler-*.tar.gz"))
    return Dist(wheel, sdist, wheel.name.split("-")[1])


def make_venv(root: Path, wheel: Path) -> Venv:
    """A new venv with ``wheel`` installed, then this venv's packages linked in. Linked only
    after the install: pip would otherwise see the checkout's own (editable) styler as
    already installed and skip the wheel."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    venv = Venv(root)
    venv.install(wheel)
    purelib = Path(sysconfig.get_paths(vars={"base": str(root), "platbase": str(root)})["purelib"])
    (purelib / "styler_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment a user has: nothing pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    return build_dist(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def newer_dist(tmp_path_factory: pytest.TempPathFactory, dist: Dist) -> Dist:
    return build_dist(tmp_path_factory.mktemp("build-newer"), version=f"{dist.version}.post1")
