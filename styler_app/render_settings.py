"""The render settings the controls edit: one engine ``RenderOptions``, with a signal.

The engine's ``RenderOptions`` is the only settings type and holds the only defaults; the
prompt box and the style panel write their controls into this model and follow it when it
changes (a history entry restored, for instance). Whoever renders reads ``options``."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.options import RenderOptions


class RenderSettings(QObject):
    """Signals:
    changed(RenderOptions): the options differ from before (never sent for a no-op).
    """

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._options = RenderOptions()

    @property
    def options(self) -> RenderOptions:
        return self._options

    def update(self, **changes: Any) -> None:
        """Change some fields (names as in ``RenderOptions``)."""
        self.set_options(dataclasses.replace(self._options, **changes))

    def set_options(self, options: RenderOptions) -> None:
        if options != self._options:
            self._options = options
            self.changed.emit(options)
