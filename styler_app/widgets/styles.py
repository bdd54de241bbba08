"""The style picker: a gallery (sample styles + the user's own, which persist), the
strength slider and the preserve-colour toggle. An image dropped here becomes the style."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from engine.image_files import is_image_path
from engine.options import RenderOptions
from styler_app.render_settings import RenderSettings
from styler_app.widgets.thumbnails import ThumbnailModel


def image_paths_from(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class _StyleList(QListView):
    """The gallery view; accepts dropped image files as new styles."""

    dropped = Signal(list)  # list[Path]: the image files dropped

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(is_image_path(p) for p in image_paths_from(event)):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [p for p in image_paths_from(event) if is_image_path(p)]
        if paths:
            event.acceptProposedAction()
            self.dropped.emit(paths)


class StylePanel(QGroupBox):
    """The style gallery; strength and colour are bound to ``settings`` (RenderSettings).

    Signals:
    changed(): the chosen style changed.
    user_styles_changed(list): the user's own styles (paths as str), to persist.
    """

    changed = Signal()
    user_styles_changed = Signal(list)

    def __init__(
        self,
        samples: list[Path],
        user_styles: list[Path],
        pool: QThreadPool,
        settings: RenderSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Style", parent)
        self.settings = settings
        self._samples = list(samples)
        self.model = ThumbnailModel(self, pool)
        self.model.set_paths(self._samples + [p for p in user_styles if p.exists()])
        self.view = _StyleList()
        self.view.setModel(self.model)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setFlow(QListView.Flow.LeftToRight)
        self.view.setWrapping(True)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setIconSize(QSize(64, 64))
        self.view.setGridSize(QSize(84, 96))
        self.view.setUniformItemSizes(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setMinimumHeight(120)
        self.view.setToolTip("Drop a painting here to use it as a style")
        self.view.selectionModel().currentChanged.connect(lambda *_: self.changed.emit())
        self.view.dropped.connect(self.add_styles)

        self.add_button = QPushButton("Add style…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected style you added (sample styles stay)")
        self.remove_button.clicked.connect(self.remove_current)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        self.strength = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0.0, 1.0)
        self.strength.setValue(settings.options.strength)
        self.strength.valueChanged.connect(lambda value: settings.update(strength=float(value)))
        self.preserve_color = QCheckBox("Keep the photo's colours")
        self.preserve_color.setChecked(settings.options.preserve_color)
        self.preserve_color.toggled.connect(lambda on: settings.update(preserve_color=on))
        settings.changed.connect(self._follow)

        form = QFormLayout()
        form.addRow("Strength", self.strength)
        form.addRow(self.preserve_color)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addLayout(form)

    def _follow(self, options: RenderOptions) -> None:
        """Show ``options`` (a history entry restored); silent, the settings already know."""
        for widget in (self.strength, self.preserve_color):
            widget.blockSignals(True)
        if self.strength.value() != options.strength:
            self.strength.setValue(options.strength)
        self.preserve_color.setChecked(options.preserve_color)
        for widget in (self.strength, self.preserve_color):
            widget.blockSignals(False)

    def current_style(self) -> Path | None:
        index = self.view.currentIndex()
        return self.model.path_at(index.row()) if index.isValid() else None

    def select_style(self, path: Path) -> None:
        paths = self.model.paths()
        if path not in paths:
            self.add_styles([path])
            paths = self.model.paths()
        index = self.model.index(paths.index(path))
        self.view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def add_styles(self, paths: list[Path]) -> None:
        """Add user styles (kept across sessions) and select the last one added."""
        images = [p for p in paths if is_image_path(p)]
        if not images:
            return
        self.model.add_paths(images)
        self.user_styles_changed.emit(self.user_styles())
        self.select_style(images[-1])

    def remove_current(self) -> None:
        current = self.current_style()
        if current is None or current in self._samples:
            return
        self.model.set_paths([p for p in self.model.paths() if p != current])
        self.user_styles_changed.emit(self.user_styles())
        self.changed.emit()

    def user_styles(self) -> list[str]:
        return [str(p) for p in self.model.paths() if p not in self._samples]
