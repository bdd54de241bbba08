"""The menu bar: every action with its shortcut, pointing at the part that does the work."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMenu

from styler_app.dialogs.about import show_about
from styler_app.logs import log_folder

if TYPE_CHECKING:
    from styler_app.main_window import MainWindow

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


def add_action(
    window: MainWindow, menu: QMenu, text: str, slot: Callable[[], object], shortcut: Shortcut = None, tip: str = ""
) -> QAction:
    """An action owned by the window (so its shortcut works window-wide), listed in ``menu``."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    add_action(window, file, "&Open folder…", window.open_folder_dialog, QKeySequence.StandardKey.Open)
    window.recent_menu = file.addMenu("Recent folders")
    add_action(window, file, "&Add photos…", window.add_photos_dialog, "Ctrl+Shift+O")
    file.addSeparator()
    window.save_action = add_action(window, file, "&Save result…", window.saving.save_dialog, QKeySequence.StandardKey.Save,
                                    "Render the current photo (or each selected one) at full resolution and save it")
    window.batch_action = add_action(window, file, "Stylize &folder…", window.saving.stylize_folder_dialog, "Ctrl+Shift+R",
                                     "Render every photo of a folder (resumable)")
    file.addSeparator()
    add_action(window, file, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    undo = window.mask_edits.group.createUndoAction(window, "Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = window.mask_edits.group.createRedoAction(window, "Redo")
    redo.setShortcut(QKeySequence.StandardKey.Redo)
    edit.addAction(undo)
    edit.addAction(redo)
    add_action(window, edit, "Reset mask to prompt", window.previews.reset_mask, "Ctrl+Shift+M")
    edit.addSeparator()
    add_action(window, edit, "&Settings…", window.settings_dialog, QKeySequence.StandardKey.Preferences)

    view = bar.addMenu("&View")
    canvas, pane = window.preview.canvas, window.preview
    add_action(window, view, "Zoom to &fit", canvas.zoom_fit, "Ctrl+0")
    add_action(window, view, "Zoom &100%", lambda: canvas.zoom_to(1.0), "Ctrl+1")
    add_action(window, view, "Zoom &in", lambda: canvas.zoom_by(1), QKeySequence.StandardKey.ZoomIn)
    add_action(window, view, "Zoom &out", lambda: canvas.zoom_by(-1), QKeySequence.StandardKey.ZoomOut)
    add_action(window, view, "Show &mask", pane.show_mask.toggle, "M")
    add_action(window, view, "&Select objects", lambda: pane.select.setChecked(True) if pane.select.isEnabled() else None, "S")
    add_action(window, view, "&Brush: add", lambda: pane.brush_add.setChecked(True), "B")
    add_action(window, view, "Brush: &erase", lambda: pane.brush_erase.setChecked(True), "E")
    view.addSeparator()
    for dock in window.docks.docks.values():
        view.addAction(dock.toggleViewAction())

    run = bar.addMenu("&Run")
    add_action(window, run, "&Preview now", window.previews.preview_now, "F5")
    add_action(window, run, "&Cancel", window.cancel_current, "Esc", "Cancel the preview and the selected job")

    help_menu = bar.addMenu("&Help")
    add_action(window, help_menu, "&Models…", window.models.show_dialog)
    add_action(window, help_menu, "&System info…", window.system_info_dialog)
    add_action(window, help_menu, "Open &log folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_folder()))))
    add_action(window, help_menu, "&About Styler", lambda: show_about(window))
