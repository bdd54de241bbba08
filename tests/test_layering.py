"""The split is enforced, not hoped for: engine/ never imports Qt or the app."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "superqt", "styler_app")


def test_no_engine_module_imports_qt():
    offenders = []
    for path in ENGINE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_headless_commands_load_no_qt_at_run_time():
    code = (
        "import sys, pkgutil, importlib, engine\n"
        "from styler_app.__main__ import main\n"
        "try:\n    main(['stylize', '--help'])\nexcept SystemExit:\n    pass\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_command_line_start_up_leaves_training_and_segmenter_libraries_unloaded():
    """torchvision (training only) and transformers (CLIPSeg only) load when used: every
    `styler` call stays quick, and an app bundle without them still runs everything else."""
    code = (
        "import sys, engine.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torchvision', 'transformers')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
