"""The Training form between sessions: its settings (``TrainingForm.state``) as one JSON
value under ``training/form`` in the app's settings file, so a reopened window shows the
folders, start, sizes, weights, levels, device, run name and preset last used."""

from __future__ import annotations

import json
from typing import Any

from styler_app.settings import AppSettings
from styler_app.training.form import TrainingForm

KEY = "training/form"


def saved_form(settings: AppSettings) -> dict[str, Any]:
    """What ``save_form`` wrote; {} when nothing (readable) was."""
    try:
        value = json.loads(str(settings.store.value(KEY, "")))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def save_form(settings: AppSettings, form: TrainingForm) -> None:
    settings.store.setValue(KEY, json.dumps(form.state()))
    settings.sync()
