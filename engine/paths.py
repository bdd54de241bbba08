"""Where Styler keeps its files: models, styles, logs. Overridable with STYLER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def styler_home() -> Path:
    """Root of Styler's per-user data (models live below it, never inside the install)."""
    override = os.environ.get("STYLER_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("styler", appauthor=False))


def models_dir() -> Path:
    """``<styler_home>/models``, unless the user chose another folder (``styler models folder``)."""
    from engine.user_settings import MODELS_DIR, get_setting  # here: user_settings imports this module

    chosen = get_setting(MODELS_DIR)
    return Path(chosen).expanduser() if chosen else styler_home() / "models"
