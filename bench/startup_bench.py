"""Time from launching Styler to its window being shown (mapped on an X display), cold and
warm, median of N launches.

    python bench/startup_bench.py dist/cpu/styler/styler [--runs 5] [--display :104]
    python bench/startup_bench.py .venv/bin/styler            # the wheel/venv install

Cold: before each launch the program's own folder (the one-folder app, or the venv) is
evicted from the page cache with posix_fadvise(DONTNEED), as after a reboot; system
libraries (libc, X11, GL) stay cached. Warm: the same launch right after another. The clock
starts at exec and stops when `xdotool search --onlyvisible` first finds the "Styler" window
(polled every 20 ms). The app's own CPU time to that moment is reported too: on a
busy machine wall time mostly measures the other load. Needs Xvfb and xdotool."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def evict(folder: Path) -> int:
    """Drop ``folder``'s files from the page cache; returns how many bytes were asked to go."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                total += path.stat().st_size
            finally:
                os.close(fd)
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (a figure that other load on the
    machine does not inflate, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_window(app: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the app) from exec to its window being shown."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(app)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Styler$"],
                                   env=env, capture_output=True).stdout.strip()
            if found:
                return time.perf_counter() - started, cpu_seconds(proc.pid)
            if proc.poll() is not None:
                raise SystemExit(f"{app} exited ({proc.returncode}) before showing its window")
            time.sleep(0.02)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", type=Path, help="the styler executable to launch")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--display", default=":104")
    args = parser.parse_args()
    app = args.app.absolute()
    # The folder that makes up the program: the app folder, or the venv around bin/styler.
    folder = app.parent.parent if app.parent.name == "bin" else app.parent
    xvfb = subprocess.Popen(["Xvfb", args.display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
    try:
        time.sleep(1.0)
        with tempfile.TemporaryDirectory(prefix="styler-startup-") as home:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
            env.update(DISPLAY=args.display, QT_QPA_PLATFORM="xcb", HOME=home, STYLER_HOME=f"{home}/styler")
            time_to_window(app, env)  # first launch writes settings and caches; not counted
            cold, warm = [], []
            for _ in range(args.runs):
                evicted = evict(folder)
                cold.append(time_to_window(app, env))
                warm.append(time_to_window(app, env))
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    load = os.getloadavg()[0]
    print(f"{app}: {evicted / 1e6:.0f} MB evicted before each cold launch; load average {load:.1f}, "
          f"{os.cpu_count()} CPUs")
    for name, runs in (("cold", cold), ("warm", warm)):
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name}: median {statistics.median(walls):.2f} s wall ({', '.join(f'{t:.2f}' for t in walls)}); "
              f"app CPU time median {statistics.median(cpus):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
