"""Starting the Qt application: logging, high-DPI, the window, then the engine thread."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import cast

log = logging.getLogger("styler_app")


def _report_unexpected(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """A bug in a slot must not take the app down: log it and tell the user once."""
    log.error("unexpected error in the user interface", exc_info=(kind, error, trace))
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is not None:
        QMessageBox.warning(None, "Styler", f"Something went wrong: {error}\n\nDetails are in the log file (Help ▸ Open log folder).")


def run_gui(open_paths: list[Path] | None = None) -> int:
    """Show the window (with ``open_paths`` in it: photos or folders) and run Qt's loop."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from engine import __version__
    from engine.resources import APP_ID, ICON_SIZES, icon_png
    from styler_app.gui_thread_gc import collect_garbage_on_gui_thread
    from styler_app.logs import setup_logging
    from styler_app.main_window import MainWindow
    from styler_app.settings import APPLICATION, ORGANIZATION

    # Qt 6 scales by the screen's device-pixel ratio; pass fractional factors (150 %) through.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv))  # only QApplications are made here
    collect_garbage_on_gui_thread()  # before the engine, thumbnail or batch threads exist
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # Wayland matches the window to the installed desktop entry
    icon = QIcon()
    for size in ICON_SIZES:  # every rendered size: crisp in the title bar and the task switcher
        icon.addFile(str(icon_png(size)))
    app.setWindowIcon(icon)
    log_file = setup_logging()
    log.info("Styler starting; log at %s", log_file)
    sys.excepthook = _report_unexpected

    window = MainWindow()
    window.show()
    if open_paths:
        window.open_paths(open_paths)
    # The engine thread (and torch with it) starts once the window is on screen.
    QTimer.singleShot(0, window.start)
    return app.exec()
