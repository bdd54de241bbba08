"""The app's log file under platformdirs' log folder (Help ▸ Open log folder)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

LOG_NAME = "styler.log"


def log_folder() -> Path:
    return Path(platformdirs.user_log_dir("styler", appauthor=False))


def setup_logging(folder: Path | None = None) -> Path:
    """Log INFO and up to a rotating file (and warnings to stderr); returns the file."""
    folder = folder or log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    return path
