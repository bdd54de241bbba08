"""Launch a ``styler`` command (train or ablate) and record how it ended.

    python -m engine.train.supervise RUN_DIR -- train --content … -o RUN_DIR …

The GUI starts this detached, so a run can outlive the window that started it. It runs
``python -m engine.cli ARGS`` with stdout and stderr appended to RUN_DIR/train.log, passes
SIGTERM/SIGINT on (the trainer saves a checkpoint and stops), and when the trainer ends
without having recorded its outcome (killed, crashed, out of memory in the OS's eyes) it
marks the run failed with the exit status and the last log lines. Never imports torch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path

from engine.train.run_status import SUPERVISOR_ENV, RunStatus, read_status, write_status

LOG_FILE = "train.log"
TAIL_LINES = 8
ERROR_PREFIX = "styler: error: "  # how engine.cli reports a StylerError


def last_lines(path: Path, count: int = TAIL_LINES) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [line.rstrip("\n") for line in deque(f, maxlen=count)]
    except OSError:
        return []


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name} (signal {-returncode})"
    return f"exit status {returncode}"


def record_exit(run_dir: Path, child_pid: int, returncode: int) -> None:
    """Mark the run failed unless its trainer already said how it ended."""
    if returncode == 0:
        return
    status = read_status(run_dir)
    if status is not None and (status.pid != child_pid or status.state != "running"):
        return  # the trainer recorded its own outcome, or the folder belongs to another run
    tail = last_lines(run_dir / LOG_FILE)
    errors = [line.removeprefix(ERROR_PREFIX) for line in tail if line.startswith(ERROR_PREFIX)]
    if errors:  # the command said what was wrong before it had a run to mark (e.g. no GPU)
        message = errors[-1]
    else:
        message = f"the training process ended unexpectedly ({describe_exit(returncode)})"
        if tail:
            message += "; last log lines:\n" + "\n".join(tail)
    write_status(run_dir, RunStatus("failed", child_pid, status.step if status else 0, message, os.getpid()))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m engine.train.supervise RUN_DIR -- STYLER-ARGS…", file=sys.stderr)
        return 2
    run_dir = Path(argv[0])
    run_dir.mkdir(parents=True, exist_ok=True)
    # The trainer runs the same engine code as this supervisor, wherever it was started from.
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, SUPERVISOR_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    with open(run_dir / LOG_FILE, "a", encoding="utf-8") as log:
        child = subprocess.Popen([sys.executable, "-m", "engine.cli", *argv[2:]], stdout=log,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    returncode = child.wait()
    record_exit(run_dir, child.pid, returncode)
    return 0 if returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
