"""The content list: image paths shown as a thumbnail grid, thumbnails decoded lazily in a
thread pool (only for items the view asks to paint) and cached."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap

from engine.image_files import is_image_path
from styler_app.images import read_scaled

THUMB_SIZE = 128
PathRole = Qt.ItemDataRole.UserRole + 1


def images_in(folder: Path) -> list[Path]:
    try:
        return sorted((p for p in folder.iterdir() if p.is_file() and is_image_path(p)), key=lambda p: p.name.lower())
    except OSError:
        return []


class _Loaded(QObject):
    done = Signal(str, QImage)


class _ThumbnailTask(QRunnable):
    def __init__(self, path: str, size: int, signals: _Loaded) -> None:
        super().__init__()
        self._path, self._size, self._signals = path, size, signals

    def run(self) -> None:  # thread pool
        self._signals.done.emit(self._path, read_scaled(self._path, self._size))


class ThumbnailModel(QAbstractListModel):
    """A list of image files. DecorationRole returns a cached thumbnail, or a placeholder
    while the thumbnail is decoded off the GUI thread."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._paths: list[Path] = []
        self._cache: dict[str, QIcon] = {}
        self._pending: set[str] = set()
        self._pool = pool or QThreadPool.globalInstance()
        self._signals = _Loaded(self)
        self._signals.done.connect(self._on_loaded)
        placeholder = QPixmap(THUMB_SIZE, THUMB_SIZE)
        placeholder.fill(QColor(128, 128, 128, 60))
        self._placeholder = QIcon(placeholder)

    # ------------------------------------------------------------------ content

    def paths(self) -> list[Path]:
        return list(self._paths)

    def set_paths(self, paths: list[Path]) -> None:
        self.beginResetModel()
        self._paths = list(dict.fromkeys(paths))
        self.endResetModel()

    def add_paths(self, paths: list[Path]) -> int:
        new = [p for p in dict.fromkeys(paths) if p not in set(self._paths)]
        if new:
            start = len(self._paths)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            self._paths.extend(new)
            self.endInsertRows()
        return len(new)

    def path_at(self, row: int) -> Path:
        return self._paths[row]

    # ------------------------------------------------------------------ Qt model

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._paths)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        path = self._paths[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return path.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(path)
        if role == PathRole:
            return str(path)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(str(path))
        return None

    def _thumbnail(self, path: str) -> QIcon:
        icon = self._cache.get(path)
        if icon is not None:
            return icon
        if path not in self._pending:
            self._pending.add(path)
            self._pool.start(_ThumbnailTask(path, THUMB_SIZE, self._signals))
        return self._placeholder

    @Slot(str, QImage)
    def _on_loaded(self, path: str, image: QImage) -> None:
        self._pending.discard(path)
        if image.isNull():  # unreadable file: keep a visible but empty tile
            self._cache[path] = self._placeholder
        else:
            self._cache[path] = QIcon(QPixmap.fromImage(image))
        for row, candidate in enumerate(self._paths):
            if str(candidate) == path:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def icon_size(self) -> QSize:
        return QSize(THUMB_SIZE, THUMB_SIZE)
