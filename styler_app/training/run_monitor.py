"""Watching a run folder: new metrics lines, new log lines, the newest sample grid and the
run's state, polled a few times a second from the files the trainer writes (nothing is
re-read whole). Works the same for a run this window started and one it re-attached to.
For an ablation the log is the study's and the metrics and samples are those of the variant
training now: when the next variant starts, the curves start over from its folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine.train.metrics_tail import LineTail, MetricsTail
from engine.train.runs import process_alive, run_summary
from engine.train.supervise import LOG_FILE

POLL_MS = 250
CHUNK_BYTES = 64 * 1024  # ≈ 250 metrics lines per slice: a long history never stalls the window


class RunMonitor(QObject):
    metrics = Signal(list, bool)  # new records, reset (the file was replaced: start over)
    log_lines = Signal(list, bool)
    sample = Signal(str)  # path of the newest sample grid
    summary = Signal(object)  # RunSummary, on every poll while attached
    ended = Signal(object)  # RunSummary, once the process is gone and its outcome written

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.supervisor: int | None = None
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._metrics: MetricsTail | None = None
        self._followed: Path | None = None  # whose metrics and samples: the run's, or a study's variant
        self._log: LineTail | None = None
        self._sample = ""
        self._live = False

    def attach(self, run_dir: Path, supervisor: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.supervisor = supervisor
        self._metrics, self._followed = None, None  # the first poll picks the folder
        self._log = LineTail(self.run_dir / LOG_FILE)
        self._live = True
        self.log_lines.emit([], True)
        self.poll()
        self._timer.start()

    def _follow(self, folder: Path) -> None:
        """Read metrics and samples from ``folder`` from now on (from its start)."""
        if folder != self._followed:
            self._followed = folder
            self._metrics = MetricsTail(folder / "metrics.jsonl")
            self._sample = ""
            self.metrics.emit([], True)

    def _read_metrics(self) -> None:
        if self._metrics is None:
            return
        update = self._metrics.read(CHUNK_BYTES)
        if update.items or update.reset:
            self.metrics.emit(update.items, update.reset)
        if update.pending:  # the rest of a long history: the next slice as soon as the GUI is idle
            QTimer.singleShot(0, self, self._read_metrics)

    def detach(self) -> None:
        self._timer.stop()
        self._live = False

    @property
    def live(self) -> bool:
        return self._live

    def poll(self) -> None:
        if self.run_dir is None or self._log is None:
            return
        summary = run_summary(self.run_dir)
        folder = summary.study.variant.run_dir if summary.study is not None else self.run_dir
        self._follow(folder)
        self._read_metrics()
        lines = self._log.read()
        if lines.items or lines.reset:
            self.log_lines.emit(lines.items, lines.reset)
        newest = max((folder / "samples").glob("step_*.png"), default=None)
        if newest is not None and str(newest) != self._sample:
            self._sample = str(newest)
            self.sample.emit(self._sample)
        self.summary.emit(summary)
        supervisor = self.supervisor or summary.supervisor
        # The trainer drops its lock as it dies; its supervisor records how just after.
        if self._live and summary.state != "running" and not process_alive(supervisor):
            self._timer.stop()
            self._live = False
            self.ended.emit(run_summary(self.run_dir))
