"""The session's previews as a strip of thumbnails; clicking one restores its settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget

from engine.options import RenderOptions

MAX_ENTRIES = 60
THUMB = 64  # thumbnail side in pixels


@dataclass(frozen=True)
class Snapshot:
    """What made a preview: enough to put the controls back."""

    content: Path
    style: Path
    options: RenderOptions


class HistoryStrip(QListWidget):
    """Signals:
    restore_requested(object): the Snapshot of the clicked entry.
    """

    restore_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 6, THUMB + 6))
        self.setSpacing(0)
        self.setMovement(QListWidget.Movement.Static)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # One row of thumbnails plus room for the scroll bar, so the preview keeps the rest.
        # Not a fixed height: the Jobs tab shares this dock area and needs to grow taller.
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        self.strip_height = THUMB + 6 + scrollbar + 2 * self.frameWidth()
        self.setMinimumHeight(self.strip_height)
        self.itemClicked.connect(lambda item: self.restore_requested.emit(item.data(Qt.ItemDataRole.UserRole)))

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.strip_height)

    def add(self, snapshot: Snapshot, image: QImage) -> None:
        if self.count() and self.item(0).data(Qt.ItemDataRole.UserRole) == snapshot:
            return  # the same settings again (e.g. a brush re-render): keep one entry
        thumb = QPixmap.fromImage(
            image.scaled(self.iconSize(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )
        item = QListWidgetItem(QIcon(thumb), "")
        prompt = ", ".join(snapshot.options.prompts) or "everything"
        item.setToolTip(f"{snapshot.content.name} · {snapshot.style.stem} · {prompt} · strength {snapshot.options.strength:.2f}")
        item.setData(Qt.ItemDataRole.UserRole, snapshot)
        self.insertItem(0, item)
        while self.count() > MAX_ENTRIES:
            self.takeItem(self.count() - 1)

    def snapshots(self) -> list[Snapshot]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]
