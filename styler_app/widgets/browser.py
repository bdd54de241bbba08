"""Left pane: a folder tree over the thumbnail grid of the content list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir, QItemSelectionModel, QModelIndex, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileSystemModel,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from engine.image_files import is_image_path
from styler_app.widgets.thumbnails import ThumbnailModel, images_in


class BrowserPane(QWidget):
    """Folder tree + thumbnail grid. Selecting a folder lists its images; dropped files are
    added to the list.

    Signals:
        current_changed(object): the Path of the image to preview (or None).
        folder_chosen(str): a folder was opened (for the recent-folders list).
        stylize_folder_requested(str): the banner's "Stylize whole folder…" was clicked.
    """

    current_changed = Signal(object)
    folder_chosen = Signal(str)
    stylize_folder_requested = Signal(str)

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.fs_model = QFileSystemModel(self)
        self.fs_model.setFilter(QDir.Filter.AllDirs | QDir.Filter.NoDotAndDotDot)
        self.tree = QTreeView()
        self.tree.setModel(self.fs_model)
        self.tree.setHeaderHidden(True)
        for column in range(1, self.fs_model.columnCount()):
            self.tree.hideColumn(column)
        self.tree.clicked.connect(self._tree_clicked)
        # QFileSystemModel lists folders asynchronously: the opened folder can only be
        # expanded and scrolled to once its parents have been read.
        self.fs_model.directoryLoaded.connect(self._directory_loaded)
        self._reveal_pending = False
        self._set_tree_root(Path.home())

        self.model = ThumbnailModel(self, pool)
        self.grid = QListView()
        self.grid.setModel(self.model)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(self.model.icon_size() * 0.75)
        self.grid.setGridSize(self.model.icon_size() * 0.75 + self.model.icon_size() * 0.25)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.selectionModel().currentChanged.connect(self._current_changed)
        self.grid.setAccessibleName("Photos")

        self.banner = QWidget()
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(4, 2, 4, 2)
        self.banner_label = QLabel()
        self.banner_button = QPushButton("Stylize whole folder…")
        self.banner_button.clicked.connect(lambda: self.stylize_folder_requested.emit(self._banner_folder))
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.clicked.connect(self.banner.hide)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.banner_button)
        banner_layout.addWidget(close)
        self.banner.hide()
        self._banner_folder: str = ""

        self.count_label = QLabel("No folder open — File ▸ Open folder… or drop photos here")
        self.count_label.setWordWrap(True)
        grid_box = QWidget()
        grid_layout = QVBoxLayout(grid_box)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addWidget(self.banner)
        grid_layout.addWidget(self.grid, 1)
        grid_layout.addWidget(self.count_label)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(grid_box)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    # ------------------------------------------------------------------ API

    def open_folder(self, folder: Path) -> None:
        """Show ``folder``'s images (replacing the list) and reveal it in the tree."""
        self.folder = folder
        self.model.set_paths(images_in(folder))
        home = Path.home()
        self._set_tree_root(home if folder.is_relative_to(home) and folder != home else folder.parent)
        self._reveal_pending = True
        self._reveal_in_tree()
        self._update_count()
        self.folder_chosen.emit(str(folder))
        if self.model.rowCount():
            self.select_row(0)
        else:
            self.current_changed.emit(None)

    def add_dropped(self, paths: list[Path]) -> tuple[int, list[Path]]:
        """Add files (and the images inside dropped folders) to the list. Returns how many
        images were added and which folders were dropped."""
        files: list[Path] = []
        folders: list[Path] = []
        for path in paths:
            if path.is_dir():
                folders.append(path)
                files.extend(images_in(path))
            elif is_image_path(path):
                files.append(path)
        first_new = self.model.rowCount()
        added = self.model.add_paths(files)
        self._update_count()
        if folders:
            self._show_banner(folders[0])
        if added and not self.grid.currentIndex().isValid():
            self.select_row(first_new)
        return added, folders

    def select_row(self, row: int) -> None:
        index = self.model.index(row)
        self.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_paths(self) -> list[Path]:
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        return [self.model.path_at(row) for row in rows]

    def current_path(self) -> Path | None:
        index = self.grid.currentIndex()
        return self.model.path_at(index.row()) if index.isValid() else None

    # ------------------------------------------------------------------ internals

    def _show_banner(self, folder: Path) -> None:
        self._banner_folder = str(folder)
        self.banner_label.setText(f"Dropped folder “{folder.name}”")
        self.banner.show()

    def _set_tree_root(self, root: Path) -> None:
        """Show ``root``'s subfolders (home for folders inside it, else the folder's parent),
        not the whole file system from ``/``."""
        if self.fs_model.rootPath() != str(root):
            self.fs_model.setRootPath(str(root))
            self.tree.setRootIndex(self.fs_model.index(str(root)))

    def _reveal_in_tree(self) -> None:
        """Select, expand and centre the opened folder as far as the model has loaded it."""
        if self.folder is None or not self._reveal_pending:
            return
        index = self.fs_model.index(str(self.folder))
        if not index.isValid():
            return
        self.tree.setCurrentIndex(index)
        self.tree.expand(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        if not self.fs_model.canFetchMore(index):  # already read: nothing more will arrive
            self._reveal_pending = False

    def _directory_loaded(self, path: str) -> None:
        # Reveal only while the opened folder is still arriving, so that expanding other
        # folders later does not yank the view back to it.
        self._reveal_in_tree()
        if self.folder is not None and Path(path) == self.folder:
            self._reveal_pending = False

    def _tree_clicked(self, index: QModelIndex) -> None:
        self._reveal_pending = False
        self.open_folder(Path(self.fs_model.filePath(index)))

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.current_changed.emit(self.model.path_at(current.row()) if current.isValid() else None)

    def _update_count(self) -> None:
        count = self.model.rowCount()
        where = f" in {self.folder.name}" if self.folder else ""
        self.count_label.setText(f"{count} photo{'s' if count != 1 else ''}{where}")
