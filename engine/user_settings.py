"""Settings the engine persists between runs (default model, model folder), as one small
JSON file ``settings.json`` under ``styler_home()``.

Qt-free on purpose: the CLI and the app read the same file, so choosing the default model in
one shows in the other. Unknown keys are kept untouched, so the app may store its own keys
here too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.atomic import write_atomically
from engine.errors import StylerError
from engine.paths import styler_home

SETTINGS_FILE_NAME = "settings.json"

# Keys the engine itself reads.
DEFAULT_MODEL = "default_model"
MODELS_DIR = "models_dir"


def settings_path() -> Path:
    return styler_home() / SETTINGS_FILE_NAME


def load_settings() -> dict[str, Any]:
    path = settings_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StylerError(
            f"{path}: settings file is unreadable ({exc}); fix it or delete it to start from defaults"
        ) from None
    if not isinstance(data, dict):
        raise StylerError(f"{path}: settings file is not a JSON object; delete it to start from defaults")
    return data


def get_setting(key: str, default: Any = None) -> Any:
    return load_settings().get(key, default)


def set_setting(key: str, value: Any) -> None:
    """Store ``value`` under ``key`` (``None`` removes the key); written atomically."""
    data = load_settings()
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
    write_atomically(path, lambda tmp: Path(tmp).write_bytes(payload))
