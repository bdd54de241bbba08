"""An ablation's report.md, rendered (Qt's Markdown support; its images load from the
report's folder)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QTextBrowser, QWidget


class ReportView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.setPlaceholderText("An ablation preset writes its report here when it ends.")

    def show_report(self, path: Path) -> None:
        self.document().setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
        self.setSearchPaths([str(path.parent)])
        self.setMarkdown(path.read_text(encoding="utf-8"))
