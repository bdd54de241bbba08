"""Installing a newer wheel over an older one keeps the user's models and settings: they live
in the platformdirs folders, never inside the installed package."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.conftest import random_photo
from tests.packaging.conftest import Dist, clean_env, make_venv, run


def test_models_and_settings_survive_a_wheel_upgrade(dist: Dist, newer_dist: Dist, model_path: Path, tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", dist.wheel)
    work = tmp_path / "work"
    work.mkdir()
    # No STYLER_HOME: the user's folders come from platformdirs, as for a real user.
    env = clean_env(HOME=str(tmp_path / "user"), XDG_DATA_HOME=str(tmp_path / "user" / "data"),
                    XDG_CONFIG_HOME=str(tmp_path / "user" / "config"))
    env.pop("STYLER_HOME", None)

    # The first style model installed becomes the default: a model file plus a setting.
    venv.styler("models", "import", str(model_path), "--name", "mine", cwd=work, env=env)

    venv.install(newer_dist.wheel)

    version = run([str(venv.bin / "python"), "-c", "import importlib.metadata as m; print(m.version('styler'))"],
                  cwd=work, env=env).stdout.strip()
    assert version == newer_dist.version != dist.version
    listed = venv.styler("models", "list", cwd=work, env=env).stdout.splitlines()
    folder = Path(listed[0].removeprefix("model folder: "))
    assert folder.is_relative_to(tmp_path / "user" / "data") and not folder.is_relative_to(venv.root)
    assert any(line.startswith("* mine ") for line in listed), listed  # still there, still the default
    photo = random_photo(work / "photo.png", (48, 32), seed=5)
    # No --model: the default chosen before the upgrade, from the settings kept across it.
    venv.styler("stylize", str(photo), "--style", "mosaic-glass", "--device", "cpu", "--style-size", "64",
                "-o", "out.png", cwd=work, env=env)
    with Image.open(work / "out.png") as out:
        assert out.size == (48, 32)
