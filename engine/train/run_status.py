"""RUN_DIR/status.json: what the last process that trained in a run folder says about it.

The trainer writes ``running`` (with its pid) once it holds the run's lock, and
``finished``, ``stopped`` or ``failed`` (with the message a person needs) when it ends. A
process killed with -9 writes nothing, so ``running`` with the lock free means the process
died; the supervisor that launched it (``engine.train.supervise``) then records how."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from engine.atomic import write_atomically
from engine.errors import StylerError

STATUS_FILE = "status.json"
SUPERVISOR_ENV = "STYLER_SUPERVISOR_PID"  # set by the supervisor for the trainer it starts

State = Literal["running", "stopped", "finished", "failed"]


@dataclass
class RunStatus:
    state: State
    pid: int  # the training process
    step: int = 0
    message: str = ""
    supervisor: int | None = None  # the supervisor's pid, when one launched the trainer
    updated: str = ""


def read_status(run_dir: Path) -> RunStatus | None:
    try:
        data = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
        return RunStatus(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_status(run_dir: Path, status: RunStatus) -> None:
    status.updated = datetime.now(UTC).isoformat(timespec="seconds")
    text = json.dumps(asdict(status), indent=2)
    write_atomically(Path(run_dir) / STATUS_FILE, lambda tmp: _write_text(tmp, text))


def _write_text(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")


def _supervisor_pid() -> int | None:
    value = os.environ.get(SUPERVISOR_ENV, "")
    return int(value) if value.isdigit() else None


class StatusRecorder:
    """The trainer's side: ``running`` now, the outcome at the end."""

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.run_dir = run_dir
        self.enabled = enabled
        self.step = 0
        self.started = False  # failures before ``running`` leave the folder's status alone

    def _write(self, state: State, message: str = "") -> None:
        if self.enabled and self.started:
            write_status(self.run_dir, RunStatus(state, os.getpid(), self.step, message, _supervisor_pid()))

    def running(self, step: int) -> None:
        self.step = step
        self.started = True
        self._write("running")

    def ended(self, step: int, stopped: bool, message: str = "") -> None:
        self.step = step
        self._write("stopped" if stopped else "finished", message)

    @contextmanager
    def failures_recorded(self) -> Iterator[StatusRecorder]:
        """Any exception leaving the block after ``running`` marks the run failed with its message
        (an error before it, e.g. a mistaken --resume, says nothing about the run's state)."""
        try:
            yield self
        except StylerError as exc:
            self._write("failed", str(exc))
            raise
        except KeyboardInterrupt:
            self._write("failed", "interrupted before the checkpoint was written")
            raise
        except Exception as exc:
            self._write("failed", f"{type(exc).__name__}: {exc}")
            raise
