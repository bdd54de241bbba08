"""Start-up: `styler --help`, `--version`, every `SUBCOMMAND --help` and usage errors answer
without loading torch (seconds of start-up), and a stylisation loads torch but not
torchvision, transformers or Qt. Each case runs in a fresh interpreter, because what a
module imports is only visible before anything else has imported it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "torchvision", "transformers", "PySide6", "numpy", "PIL", "scipy", "safetensors")

_PROBE = """
import json, sys
from styler_app.__main__ import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": [m for m in %r if m in sys.modules]}), file=sys.stderr)
""" % (HEAVY,)  # noqa: UP031 (the probe's own JSON braces would need doubling in str.format)


def styler(*argv: str, home: Path) -> tuple[int, list[str], str]:
    """Run the `styler` entry point in a fresh interpreter: exit code, heavy modules loaded, stdout."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "STYLER_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["loaded"], done.stdout


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "==SUPPRESS==" and a.choices)
    return sorted(action.choices)


@pytest.mark.parametrize("argv", [["--version"], ["--help"], *([name, "--help"] for name in subcommands())])
def test_help_and_version_load_no_torch(argv, isolated_home):
    code, loaded, out = styler(*argv, home=isolated_home)
    assert code == 0
    assert out.strip()  # it did print its help or version
    assert loaded == []


@pytest.mark.parametrize("argv", [["stylize"], ["stylize", "photo.jpg"], ["batch", "in"], ["no-such-command"],
                                  ["stylize", "a.jpg", "--style", "b.jpg", "--strength", "2"]])
def test_usage_errors_load_no_torch(argv, isolated_home):
    code, loaded, _ = styler(*argv, home=isolated_home)
    assert code == 2
    assert loaded == []


def test_models_list_needs_no_torch(isolated_home):
    code, loaded, out = styler("models", "list", home=isolated_home)
    assert code == 0
    assert "model folder" in out
    assert "torch" not in loaded


def test_stylize_loads_torch_but_not_torchvision_transformers_or_qt(tmp_path, model_path, isolated_home):
    from tests.conftest import random_photo

    photo = random_photo(tmp_path / "photo.png", (40, 32))
    style = random_photo(tmp_path / "style.png", (36, 36), seed=1)
    out = tmp_path / "out.png"
    code, loaded, _ = styler("stylize", str(photo), "--style", str(style), "--model", str(model_path),
                             "-o", str(out), home=isolated_home)
    assert code == 0 and out.is_file()
    assert "torch" in loaded
    assert not {"torchvision", "transformers", "PySide6"} & set(loaded)
