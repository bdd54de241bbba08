"""The Jobs panel: every save and batch job with progress, ETA, cancel, its output folder,
and the inputs that failed (select one to read why)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from styler_app.worker import EngineWorker

STATE_TEXT = {"queued": "Queued", "running": "Running", "done": "Done", "cancelled": "Cancelled", "failed": "Failed"}


def format_eta(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


@dataclass
class _Row:
    item: QTreeWidgetItem
    bar: QProgressBar
    output: Path | None
    state: str = "queued"
    started_at: float | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)


class JobsPanel(QWidget):
    """Signals:
    cancel_requested(int): the user asked to cancel this job id.
    """

    cancel_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Job", "Progress", "Time left", "Status"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.setColumnWidth(1, 160)
        # Lets the shared bottom tab area shrink to the History strip; the Jobs tab gets its
        # own height back when it is raised.
        self.tree.setMinimumHeight(20)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.open_button = QPushButton("Open output folder")
        self.open_button.clicked.connect(self._open_selected)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.detail = QLabel("Saves and folder jobs appear here.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for button in (self.cancel_button, self.open_button, self.clear_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.detail)
        self._rows: dict[int, _Row] = {}
        self._selection_changed()

    # ------------------------------------------------------------------ from the worker

    def follow(self, worker: EngineWorker) -> None:
        """Show the worker's jobs that were added here; "Cancel job" cancels them there. A
        job's start, progress and end come through the GUI-thread signals, so this panel
        shows a job as ended by the time anyone else hears of its end."""
        worker.job_started.connect(self._started)
        worker.job_progress.connect(self.on_progress)
        worker.item_failed.connect(self.on_item_failed)
        worker.error.connect(self.on_error)
        worker.job_finished.connect(self.on_finished)
        self.cancel_requested.connect(worker.cancel)

    def add_job(self, job_id: int, title: str, output: Path | None) -> None:
        item = QTreeWidgetItem([title, "", "", STATE_TEXT["queued"]])
        item.setData(0, Qt.ItemDataRole.UserRole, job_id)
        self.tree.insertTopLevelItem(0, item)
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setTextVisible(True)
        self.tree.setItemWidget(item, 1, bar)
        self._rows[job_id] = _Row(item, bar, output)
        self.tree.setCurrentItem(item)

    def item_of(self, job_id: int) -> QTreeWidgetItem:
        """The job's row in the tree (its failed inputs are its children)."""
        return self._rows[job_id].item

    def has_job(self, job_id: int) -> bool:
        return job_id in self._rows

    @Slot(int, str)
    def _started(self, job_id: int, kind: str) -> None:
        self.on_started(job_id)

    def on_started(self, job_id: int) -> None:
        row = self._rows.get(job_id)
        if row:
            row.state, row.started_at = "running", time.monotonic()
            row.item.setText(3, STATE_TEXT["running"])
            self._selection_changed()

    @Slot(int, float, str)
    def on_progress(self, job_id: int, fraction: float, message: str) -> None:
        row = self._rows.get(job_id)
        if not row:
            return
        row.bar.setValue(int(fraction * 1000))
        row.bar.setFormat(f"{fraction:.0%}")
        if message:
            row.item.setToolTip(0, message)
        if row.started_at is not None and 0.02 < fraction < 1.0:
            elapsed = time.monotonic() - row.started_at
            row.item.setText(2, format_eta(elapsed * (1 - fraction) / fraction))

    @Slot(int, str, str)
    def on_item_failed(self, job_id: int, item: str, reason: str) -> None:
        row = self._rows.get(job_id)
        if not row:
            return
        row.failures.append((item, reason))
        child = QTreeWidgetItem([Path(item).name, "", "", "Failed"])
        child.setToolTip(0, reason)
        child.setData(0, Qt.ItemDataRole.UserRole + 1, reason)
        row.item.addChild(child)
        row.item.setExpanded(True)
        row.item.setText(0, f"{row.item.text(0).split(' — ')[0]} — {len(row.failures)} failed")

    @Slot(int, str)
    def on_error(self, job_id: int, message: str) -> None:
        row = self._rows.get(job_id)
        if row:
            row.item.setToolTip(3, message)
            row.item.setData(0, Qt.ItemDataRole.UserRole + 1, message)

    @Slot(int, str)
    def on_finished(self, job_id: int, state: str) -> None:
        row = self._rows.get(job_id)
        if not row:
            return
        row.state = state
        row.item.setText(2, "")
        row.item.setText(3, STATE_TEXT.get(state, state))
        if state == "done":
            row.bar.setValue(1000)
            row.bar.setFormat("100%")
        self._selection_changed()

    # ------------------------------------------------------------------ queries and actions

    def state_of(self, job_id: int) -> str:
        return self._rows[job_id].state

    def failures_of(self, job_id: int) -> list[tuple[str, str]]:
        return list(self._rows[job_id].failures)

    def running_jobs(self) -> list[int]:
        return [job_id for job_id, row in self._rows.items() if row.state in ("queued", "running")]

    def clear_finished(self) -> None:
        for job_id in [j for j, row in self._rows.items() if row.state not in ("queued", "running")]:
            row = self._rows.pop(job_id)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(row.item))
        self._selection_changed()

    def selected_job(self) -> int | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _selection_changed(self) -> None:
        job_id = self.selected_job()
        row = self._rows.get(job_id) if job_id is not None else None
        self.cancel_button.setEnabled(row is not None and row.state in ("queued", "running"))
        self.open_button.setEnabled(row is not None and row.output is not None)
        item = self.tree.currentItem()
        reason = item.data(0, Qt.ItemDataRole.UserRole + 1) if item is not None else None
        if reason and item is not None:
            self.detail.setText(f"{item.text(0)}: {reason}" if item.parent() else str(reason))
        elif row is not None and row.output is not None:
            self.detail.setText(f"Output: {row.output}")

    def _cancel_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            self.cancel_requested.emit(job_id)

    def _open_selected(self) -> None:
        job_id = self.selected_job()
        row = self._rows.get(job_id) if job_id is not None else None
        if row is not None and row.output is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(row.output)))
