"""The app's persisted preferences (QSettings, INI format so tests can redirect it with
``QSettings.setPath``), with typed accessors so widgets never spell keys themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "Styler"
APPLICATION = "Styler"
MAX_RECENT = 8
DEFAULT_NAME_TEMPLATE = "{stem}.styled{ext}"
PREVIEW_SIZES = (256, 384, 512, 768, 1024)

_T = TypeVar("_T")


def _as_list(value: object) -> list[str]:
    # QSettings returns a str for a one-element list and None for an empty one.
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


class AppSettings:
    """Typed view over QSettings. ``AppSettings()`` uses the user's file; tests pass their own."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    @classmethod
    def at(cls, path: Path) -> AppSettings:
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def _get(self, key: str, default: _T, kind: Callable[[Any], _T]) -> _T:
        value = self.store.value(key, default)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def sync(self) -> None:
        self.store.sync()

    # ------------------------------------------------------------------ engine

    @property
    def device(self) -> str:
        return str(self._get("engine/device", "auto", str))

    @device.setter
    def device(self, value: str) -> None:
        self.store.setValue("engine/device", value)

    @property
    def precision(self) -> str:
        return str(self._get("engine/precision", "auto", str))

    @precision.setter
    def precision(self, value: str) -> None:
        self.store.setValue("engine/precision", value)

    @property
    def model_path(self) -> str:
        """A model file chosen in Settings; empty = the installed default model."""
        return str(self._get("engine/model_path", "", str))

    @model_path.setter
    def model_path(self, value: str) -> None:
        self.store.setValue("engine/model_path", value)

    @property
    def preview_size(self) -> int:
        return self._get("preview/size", 512, int)

    @preview_size.setter
    def preview_size(self, value: int) -> None:
        self.store.setValue("preview/size", int(value))

    # ------------------------------------------------------------------ output

    @property
    def output_folder(self) -> str:
        return str(self._get("output/folder", "", str))

    @output_folder.setter
    def output_folder(self, value: str) -> None:
        self.store.setValue("output/folder", value)

    @property
    def name_template(self) -> str:
        return str(self._get("output/name_template", DEFAULT_NAME_TEMPLATE, str)) or DEFAULT_NAME_TEMPLATE

    @name_template.setter
    def name_template(self, value: str) -> None:
        self.store.setValue("output/name_template", value)

    # ------------------------------------------------------------------ browsing and styles

    @property
    def recent_folders(self) -> list[str]:
        return _as_list(self.store.value("browse/recent"))

    def add_recent_folder(self, folder: str) -> None:
        recent = [folder] + [f for f in self.recent_folders if f != folder]
        self.store.setValue("browse/recent", recent[:MAX_RECENT])

    @property
    def user_styles(self) -> list[str]:
        return _as_list(self.store.value("styles/user"))

    @user_styles.setter
    def user_styles(self, paths: list[str]) -> None:
        self.store.setValue("styles/user", list(paths))

    # ------------------------------------------------------------------ window state

    def window_state(self, name: str) -> QByteArray | None:
        value = self.store.value(f"window/{name}")
        return value if isinstance(value, QByteArray) else None

    def set_window_state(self, name: str, value: QByteArray) -> None:
        self.store.setValue(f"window/{name}", value)
