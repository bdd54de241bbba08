"""Each photo's own touches to its region, with undo/redo (one QUndoStack per photo in a
group): a brushed mask and SAM 2 clicks."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoCommand, QUndoGroup, QUndoStack

from engine.options import Click


class MaskEdits(QObject):
    """Per-photo edits. A brushed mask of ``None`` means "use the prompt's mask"; clicks
    (in the photo's own pixels) add or remove objects from the prompt's mask through SAM 2.

    Signals:
        changed(str): this photo's brushed mask or clicks changed (edit, undo, redo, reset).
    """

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.group = QUndoGroup(self)
        self._masks: dict[str, QImage | None] = {}
        self._clicks: dict[str, tuple[Click, ...]] = {}
        self._stacks: dict[str, QUndoStack] = {}

    def activate(self, image: str) -> None:
        """Undo/redo now act on ``image``'s edits."""
        if image not in self._stacks:
            self._stacks[image] = QUndoStack(self.group)
        self.group.setActiveStack(self._stacks[image])

    def mask(self, image: str) -> QImage | None:
        return self._masks.get(image)

    def clicks(self, image: str) -> tuple[Click, ...]:
        return self._clicks.get(image, ())

    def stroke(self, image: str, after: QImage) -> None:
        """Record a finished stroke (the canvas already shows ``after``). Undoing the first
        stroke returns to the prompt's mask (stored as None), not to a copy of it."""
        self._push(image, after, self.clicks(image), "brush stroke")

    def click(self, image: str, click: Click) -> None:
        """Add (or, negative, remove) the object under ``click``."""
        self._push(image, self.mask(image), (*self.clicks(image), click),
                   "select object" if click.positive else "remove object")

    def reset(self, image: str) -> None:
        """Back to the prompt's mask: no brushing, no clicks."""
        if self._masks.get(image) is None and not self.clicks(image):
            return
        self._push(image, None, (), "reset to prompt mask")

    def _push(self, image: str, mask: QImage | None, clicks: tuple[Click, ...], text: str) -> None:
        self.activate(image)
        before = (self.mask(image), self.clicks(image))
        self._stacks[image].push(_SetEdits(self, image, before, (mask, clicks), text))

    def _set(self, image: str, state: tuple[QImage | None, tuple[Click, ...]]) -> None:
        self._masks[image], self._clicks[image] = state
        self.changed.emit(image)


class _SetEdits(QUndoCommand):
    def __init__(
        self,
        edits: MaskEdits,
        image: str,
        old: tuple[QImage | None, tuple[Click, ...]],
        new: tuple[QImage | None, tuple[Click, ...]],
        text: str,
    ) -> None:
        super().__init__(text)
        self._edits, self._image = edits, image
        self._old, self._new = old, new

    def redo(self) -> None:
        self._edits._set(self._image, self._new)

    def undo(self) -> None:
        self._edits._set(self._image, self._old)
