"""Starting and stopping run processes. A run is ``python -m engine.train.supervise RUN_DIR
-- train …`` started detached by QProcess: it survives the window (and the window survives
it), writes its output to RUN_DIR/train.log, and stops on RUN_DIR/STOP like ``styler train``.
The probe is an ordinary attached QProcess: it is short and belongs to the window."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal

import engine
from engine.errors import StylerError
from engine.train.stop import STOP_FILE

# The directory holding the ``engine`` package: child processes run the same engine code.
ENGINE_ROOT = Path(engine.__file__).resolve().parents[1]


def launch(run_dir: Path, styler_args: list[str]) -> int:
    """Start ``styler ARGS`` for ``run_dir`` under the supervisor; -> the supervisor's pid."""
    arguments = ["-m", "engine.train.supervise", str(run_dir), "--", *styler_args]
    ok, pid = QProcess.startDetached(sys.executable, arguments, str(ENGINE_ROOT))
    if not ok:
        raise StylerError(f"could not start the training process ({sys.executable}); see the log folder")
    return int(pid)


def request_stop(run_dir: Path) -> None:
    """The trainer saves a checkpoint at the end of the current step and exits."""
    (Path(run_dir) / STOP_FILE).touch()


class ProbeProcess(QObject):
    """``styler train … --probe N`` in a child process: emits the parsed result or a message."""

    finished = Signal(dict)  # ProbeResult.to_dict()
    failed = Signal(str)
    output = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.setWorkingDirectory(str(ENGINE_ROOT))
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._done)
        self._lines: list[str] = []

    def start(self, styler_args: list[str], steps: int) -> None:
        self._lines = []
        self.process.start(sys.executable, ["-m", "engine.cli", *styler_args, "--probe", str(steps)])

    def is_running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def kill(self) -> None:
        if self.is_running():
            self.process.kill()
            self.process.waitForFinished(5000)

    def _read(self) -> None:
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self._lines.append(line)
                self.output.emit(line)

    def _done(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if code == 0 and self._lines:
            try:
                self.finished.emit(json.loads(self._lines[-1]))
                return
            except ValueError:
                pass
        errors = [line for line in self._lines if line.startswith("styler: error:")]
        reason = errors[-1].removeprefix("styler: error: ") if errors else "\n".join(self._lines[-4:])
        self.failed.emit(f"The probe failed: {reason or f'exit status {code}'}")
