"""`styler ARGS`: nothing opens the window, photos and folders open the window with them,
subcommands and options run the CLI, anything else is one clear error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

import styler_app.app
from styler_app.__main__ import main
from styler_app.launch import Launch, LaunchError, decide, subcommand_names
from tests.conftest import random_photo


def test_subcommands_and_options_run_the_cli_even_beside_a_same_named_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()  # a folder called like a subcommand does not hijack it
    assert {"stylize", "models", "batch", "styles", "desktop"} <= set(subcommand_names())
    assert decide(["models", "list"]) == Launch(gui=False)
    assert decide(["--version"]) == Launch(gui=False)
    assert decide([]) == Launch(gui=True)


def test_photos_and_folders_open_the_window_with_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = random_photo(tmp_path / "photo.jpg", (20, 10))
    folder = tmp_path / "album"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    opened: list[list[Path]] = []
    monkeypatch.setattr(styler_app.app, "run_gui", lambda paths: opened.append(paths) or 0)

    assert main(["photo.jpg", str(folder)]) == 0
    assert opened == [[photo, folder]]


@pytest.mark.parametrize(("args", "message"), [
    (["stylise"], "'stylise' is neither a subcommand nor an existing file or folder (subcommands: "),
    (["missing.jpg"], "missing.jpg: no such file or folder"),
    (["notes.txt"], "notes.txt: not an image Styler opens"),
    (["photo.jpg", "--debug"], "--debug: options go before a subcommand"),
])
def test_anything_else_is_one_clear_error(args: list[str], message: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    random_photo(tmp_path / "photo.jpg", (20, 10))
    (tmp_path / "notes.txt").write_text("not a photo")
    with pytest.raises(LaunchError, match="."):
        decide(args)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"styler: error: {message}") and err.count("\n") == 1
