"""Starting the Qt application."""

from __future__ import annotations

import sys


def run_gui() -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("Styler")
    window.setCentralWidget(QLabel("Styler — the full window is on its way."))
    window.resize(960, 640)
    window.show()
    return app.exec()
