"""The runs list: every run folder under the runs folder with its state, progress, last
loss, training time and settings. Choosing 2–4 rows enables Compare."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from engine.train.runs import RunSummary, list_runs

COLUMNS = ("Run", "Status", "Step", "Last loss", "Time", "Settings")


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def settings_text(run: RunSummary) -> str:
    config = run.config
    if not config:
        return ""
    start = Path(config.get("init") or config.get("encoder") or "?").name
    common = f"from {start} · batch {config.get('batch_size')} · crop {config.get('crop_size')}"
    if run.study is not None:  # λ and levels differ between its variants
        return f"ablation: {run.study.study}, {len(run.study.variants)} variants · {common} · {config.get('precision')}"
    levels = ",".join(map(str, config.get("levels") or [3, 4, 5]))
    return (f"{common} · "
            f"λ {config.get('lambda_global'):g}/{config.get('lambda_local'):g}/{config.get('lambda_skew'):g} · "
            f"levels {levels} · {config.get('precision')}")


def progress_text(run: RunSummary) -> str:
    """Step of target; for an ablation, of its current variant, after which variant it is."""
    where = f"{run.study.current + 1}/{len(run.study.variants)}: " if run.study is not None else ""
    return f"{where}{run.step} / {run.steps}"


class RunsTable(QTableWidget):
    open_requested = Signal(object)  # RunSummary (double-click: watch it in the panel)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.runs: list[RunSummary] = []
        self.cellDoubleClicked.connect(lambda row, _: self.open_requested.emit(self.runs[row]))

    def refresh(self, root: Path) -> None:
        selected = {r.run_dir for r in self.selected_runs()}
        self.runs = list_runs(root)
        self.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            loss = f"{run.last_loss:.4g}" if run.last_loss is not None else "–"
            cells = (run.name, run.state, progress_text(run), loss, duration(run.seconds), settings_text(run))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 1 and run.message:
                    item.setToolTip(run.message)
                if column in (2, 3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, column, item)
            if run.run_dir in selected:
                self.selectRow(row)
        self.resizeColumnsToContents()

    def selected_runs(self) -> list[RunSummary]:
        rows = sorted({index.row() for index in self.selectionModel().selectedRows()})
        return [self.runs[row] for row in rows if row < len(self.runs)]
