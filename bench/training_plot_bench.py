"""The Training panel's live curves: time to load a long metrics.jsonl into the plot, and
one live update (one new line appended, read incrementally, plotted, painted).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/training_plot_bench.py --lines 100000

Each phase is timed as the window runs it: MetricsTail.read() → LossPlot.append() →
LossPlot.redraw() → a repaint of the plot widget (grab() paints it offscreen). A live update
usually leaves the view where it is; one whose point falls outside it moves the view, and is
timed on its own. The window
reads a long history in slices of RunMonitor's CHUNK_BYTES, one per event-loop turn, so
the longest slice is what a person could feel; the total is how long the curves take to
fill in. Medians of --repeat runs; the frame budget at 60 Hz is 16.7 ms."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.train.metrics_tail import MetricsTail  # noqa: E402
from styler_app.training.loss_plot import LossPlot  # noqa: E402
from styler_app.training.run_monitor import CHUNK_BYTES  # noqa: E402


def clock() -> float:
    """Wall time, or this process's CPU time with --cpu-time (steadier on a shared machine)."""
    return time.process_time() if CPU_TIME else time.perf_counter()


CPU_TIME = False


def record(step: int) -> dict:
    decay = 1.0 / (1 + step / 500)
    return {"step": step, "loss": 10 * decay + 0.1, "global": decay, "local": 0.5 * decay, "skew": 0.2 * decay,
            "content": 0.0, "lr": 2e-4, "images_per_s": 12.5, "step_seconds": 0.64, "seconds": step * 0.64,
            "skipped_files": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoothing", type=float, default=0.6, help="the plot's smoothing during the test")
    parser.add_argument("--cpu-time", action="store_true", help="time with process CPU time, not wall time")
    args = parser.parse_args()
    global CPU_TIME
    CPU_TIME = args.cpu_time
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "metrics.jsonl"
        path.write_text("".join(json.dumps(record(s)) + "\n" for s in range(1, args.lines + 1)))
        size_mb = path.stat().st_size / 1e6
        load, slices, update, update_paint, moving = [], [], [], [], []
        for _ in range(args.repeat):
            plot = LossPlot()
            plot.resize(900, 420)
            plot.smoothing.setValue(args.smoothing)
            plot.show()
            app.processEvents()
            tail = MetricsTail(path)
            start = clock()
            longest, pending = 0.0, True
            while pending:
                slice_start = clock()
                chunk = tail.read(CHUNK_BYTES)
                plot.append(chunk.items)
                pending = chunk.pending
                longest = max(longest, clock() - slice_start)
            plot.redraw()
            plot.grab()
            load.append(clock() - start)
            slices.append(longest)

            step = args.lines + 1
            with open(path, "a") as f:
                f.write(json.dumps(record(step)) + "\n")
            start = clock()
            plot.append(tail.read().items)
            plot.redraw()
            update.append(clock() - start)
            plot.grab()
            update_paint.append(clock() - start)
            assert plot.point_count() == step
            # The update a frame budget must also cover: a loss spike leaves the view, which
            # moves, so both axes and their grid are drawn again.
            with open(path, "a") as f:
                f.write(json.dumps({**record(step + 1), "loss": 1e3}) + "\n")
            view = plot.plot.getViewBox().viewRange()
            start = clock()
            plot.append(tail.read().items)
            plot.redraw()
            plot.grab()
            moving.append(clock() - start)
            assert plot.plot.getViewBox().viewRange() != view
            plot.close()
            # Put the file back to its length for the next repeat.
            lines = path.read_text().splitlines(keepends=True)[: args.lines]
            path.write_text("".join(lines))
    what = "process CPU time" if args.cpu_time else "wall time"
    print(f"# {args.lines} lines ({size_mb:.1f} MB), smoothing {args.smoothing}, median of {args.repeat}, {what}")
    print(f"load into the plot (read + parse + plot + paint), total: {statistics.median(load) * 1000:.0f} ms")
    print(f"  longest slice ({CHUNK_BYTES // 1024} KiB read + parse + append): {statistics.median(slices) * 1000:.1f} ms")
    print(f"one live update (read 1 line + plot): {statistics.median(update) * 1000:.1f} ms")
    print(f"one live update incl. repaint: {statistics.median(update_paint) * 1000:.1f} ms")
    print(f"one live update that moves the view, incl. repaint: {statistics.median(moving) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
