"""docs/training-panel.png: the Training panel during a real tiny run on real photos and
paintings (random starting weights: nothing can be downloaded where the docs are built).

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/training_screenshot.py \\
        --content /work/shared/photos/photos --style /work/shared/photos/paintings

It starts `styler train` from the panel exactly as a person would (Start), waits for
--points metrics lines and a sample grid, grabs the panel, then stops the run (Stop)."""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def random_start_model(path: Path) -> Path:
    """A full-size model with He-initialised encoder (features keep their scale, as a trained
    VGG's do, so the losses have something to act on)."""
    import torch

    from engine.checkpoint import save_model
    from engine.network import StyleNet

    torch.manual_seed(0)
    net = StyleNet()
    for module in net.encoder.modules():
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size == (3, 3):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            torch.nn.init.zeros_(module.bias)
    return save_model(net, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", type=Path, required=True)
    parser.add_argument("--style", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "training-panel.png")
    parser.add_argument("--points", type=int, default=24, help="metrics lines to wait for")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from styler_app.training.panel import TrainingPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])  # our --style is not Qt's
    work = Path(tempfile.mkdtemp(prefix="styler-training-shot-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the run's checkpoints: 360 MB
    panel = TrainingPanel(work / "runs")
    panel.setWindowTitle("Styler — Training")
    panel.resize(1500, 900)
    form = panel.form
    form.content_folder.setText(str(args.content))
    form.style_folder.setText(str(args.style))
    form.add_start(random_start_model(work / "random-start.safetensors"))
    for spin, value in ((form.steps, 400), (form.batch_size, 2), (form.crop_size, 64), (form.load_size, 96),
                        (form.workers, 1), (form.log_every, 1), (form.save_every, 0), (form.sample_every, 4)):
        spin.setValue(value)
    form.run_name.setText("paintings-demo")
    form.precision.setCurrentText("fp32")
    panel.show()
    panel.start_button.click()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
        has_sample = panel.sample.pixmap() is not None and not panel.sample.pixmap().isNull()
        if panel.plot.point_count() >= args.points and has_sample:
            break
    else:
        print("timed out waiting for the run", file=sys.stderr)
    panel.plot.smoothing.setValue(0.3)
    panel.refresh_runs()
    for _ in range(20):
        app.processEvents()
        time.sleep(0.05)
    panel.grab().save(str(args.out))
    print(f"wrote {args.out} at step {panel.plot.point_count()}")
    panel.stop()
    while panel.monitor.live and time.monotonic() < deadline + 300:
        app.processEvents()
        time.sleep(0.1)
    panel.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
