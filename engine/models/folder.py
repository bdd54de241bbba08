"""Where models live: ``<styler_home>/models`` unless the user chose another folder."""

from __future__ import annotations

from pathlib import Path

from engine.paths import styler_home
from engine.user_settings import MODELS_DIR, get_setting


def models_dir() -> Path:
    """The model folder (``styler models folder DIR`` changes it; stored in settings.json)."""
    chosen = get_setting(MODELS_DIR)
    return Path(chosen).expanduser() if chosen else styler_home() / "models"
