"""Brushed masks, kept per image, with undo/redo (one QUndoStack per image in a group)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoCommand, QUndoGroup, QUndoStack


class MaskEdits(QObject):
    """Per-image touched-up masks. ``None`` for an image means "use the prompt's mask".

    Signals:
        changed(str): the brushed mask of this image changed (stroke, undo, redo, reset).
    """

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.group = QUndoGroup(self)
        self._masks: dict[str, QImage | None] = {}
        self._stacks: dict[str, QUndoStack] = {}

    def activate(self, image: str) -> None:
        """Undo/redo now act on ``image``'s strokes."""
        if image not in self._stacks:
            self._stacks[image] = QUndoStack(self.group)
        self.group.setActiveStack(self._stacks[image])

    def mask(self, image: str) -> QImage | None:
        return self._masks.get(image)

    def stroke(self, image: str, after: QImage) -> None:
        """Record a finished stroke (the canvas already shows ``after``). Undoing the first
        stroke returns to the prompt's mask (stored as None), not to a copy of it."""
        self.activate(image)
        previous = self._masks.get(image)
        self._stacks[image].push(_SetMask(self, image, previous, after, "brush stroke"))

    def reset(self, image: str) -> None:
        if self._masks.get(image) is None:
            return
        self.activate(image)
        self._stacks[image].push(_SetMask(self, image, self._masks[image], None, "reset to prompt mask"))

    def _set(self, image: str, mask: QImage | None) -> None:
        self._masks[image] = mask
        self.changed.emit(image)


class _SetMask(QUndoCommand):
    def __init__(
        self,
        edits: MaskEdits,
        image: str,
        old: QImage | None,
        new: QImage | None,
        text: str,
    ) -> None:
        super().__init__(text)
        self._edits, self._image = edits, image
        self._old, self._new = old, new

    def redo(self) -> None:
        self._edits._set(self._image, self._new)

    def undo(self) -> None:
        self._edits._set(self._image, self._old)
