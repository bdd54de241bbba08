"""The tabbed dock area under the preview (History, Jobs, and whatever comes next).

Add a tab with ``BottomDocks.add(name, title, widget)``: it becomes a dock in the bottom
area, tabbed with the others, listed in View, and remembered with the window layout. The
area fits the History strip while History is up and gives other tabs back their height."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QTabWidget, QWidget

DEFAULT_TAB_HEIGHT = 170  # a tall tab's height until the person resizes it


class BottomDocks:
    def __init__(self, window: QMainWindow, compact: str, compact_height: int) -> None:
        """``compact`` names the tab whose area is fitted to ``compact_height`` (History)."""
        self.window = window
        self.docks: dict[str, QDockWidget] = {}
        self._compact, self._compact_height = compact, compact_height
        self._tall_height = DEFAULT_TAB_HEIGHT
        self._shown = compact
        window.setTabPosition(Qt.DockWidgetArea.BottomDockWidgetArea, QTabWidget.TabPosition.North)
        window.setDocumentMode(True)

    def add(self, name: str, title: str, widget: QWidget) -> QDockWidget:
        """A new tab in the bottom area; ``name`` keys the saved layout (keep it stable)."""
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        # The tabs name the docks, so their title bars would only take height from the preview.
        dock.setTitleBarWidget(QWidget())
        self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        if self.docks:
            self.window.tabifyDockWidget(next(iter(self.docks.values())), dock)
        self.docks[name] = dock
        dock.visibilityChanged.connect(lambda shown: self._tab_shown(name) if shown else None)
        return dock

    def raise_(self, name: str) -> None:
        self.docks[name].raise_()

    def fit_on_first_show(self) -> None:
        """First start (no saved layout): fit the area to the compact tab once laid out."""
        if self._shown == self._compact:
            self._shown = ""
            # With the window as context, the call is dropped if it closes first.
            QTimer.singleShot(0, self.window, lambda: self._tab_shown(self._compact))

    def _tab_shown(self, name: str) -> None:
        if name == self._shown:
            return
        tabs = self._tab_bar_height()  # resizeDocks sizes the area, tab bar included
        shown = self.docks[name]
        if name == self._compact:
            tall = [d for n, d in self.docks.items() if n != name and d.height() > self._compact_height + 10]
            if tall:
                self._tall_height = tall[0].height() + tabs
            self.window.resizeDocks([shown], [self._compact_height + tabs], Qt.Orientation.Vertical)
        else:
            self.window.resizeDocks([shown], [self._tall_height], Qt.Orientation.Vertical)
        self._shown = name

    def _tab_bar_height(self) -> int:
        titles = {dock.windowTitle() for dock in self.docks.values()}
        for bar in self.window.findChildren(QTabBar):
            if bar.isVisible() and bar.count() and bar.tabText(0) in titles:
                return bar.height()
        return 0
