"""The root of Styler's per-user files (settings, models, styles, logs). Overridable with
STYLER_HOME. The model folder itself is ``engine.models.folder.models_dir``."""

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

