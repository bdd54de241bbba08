"""Starting the Qt application: logging, high-DPI, the window, then the engine thread."""

from __future__ import annotations

import logging
import sys
from types import TracebackType

log = logging.getLogger("styler_app")


def _report_unexpected(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """A bug in a slot must not take the app down: log it and tell the user once."""
    log.error("unexpected error in the user interface", exc_info=(kind, error, trace))
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is not None:
        QMessageBox.warning(None, "Styler", f"Something went wrong: {error}\n\nDetails are in the log file (Help ▸ Open log folder).")


def run_gui() -> int:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from styler_app.logs import setup_logging
    from styler_app.main_window import MainWindow
    from styler_app.resources import app_icon_path
    from styler_app.settings import APPLICATION, ORGANIZATION

    # Qt 6 scales by the screen's device-pixel ratio; pass fractional factors (150 %) through.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName("styler")
    if app_icon_path().exists():
        app.setWindowIcon(QIcon(str(app_icon_path())))
    log_file = setup_logging()
    log.info("Styler starting; log at %s", log_file)
    sys.excepthook = _report_unexpected

    window = MainWindow()
    window.show()
    # The engine thread (and torch with it) starts once the window is on screen.
    QTimer.singleShot(0, window.start)
    return app.exec()
