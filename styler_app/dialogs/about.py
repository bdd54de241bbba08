"""Help ▸ About Styler: the version (the one ``styler --version`` and the wheel report)."""

from __future__ import annotations

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from engine import __version__


def about_text() -> str:
    return (
        f"<h3>Styler {__version__}</h3>"
        "<p>Repaints the parts of a photo you name in the style of a painting "
        "(CLIPSeg masks, AdaAttN style transfer).</p>"
        f"<p>Qt {qVersion()}, PySide6 {pyside_version}. MIT licence.</p>"
    )


def show_about(parent: QWidget) -> QMessageBox:
    """Open the About box without blocking (window-modal); returned so callers can close it."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About Styler", about_text(), QMessageBox.StandardButton.Close, parent)
    box.setObjectName("about-styler")
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
