"""The app's four preview latencies on the CPU, through the engine calls its worker makes.

    python bench/preview_bench.py [--size 512] [--rounds 3] [--threads 2] [--device cpu]

Each round starts a fresh ``EngineSession`` (as the app does at launch, and after a change of
model or device) on a random-weight model of the real size in a temporary file, then times,
in the app's order: the first preview (model load included), a change of style, a change
of strength and a change of photo, with real photos and paintings from /work/shared/photos.

Every change is timed twice: "first pixels", the quick low-resolution pass the preview
controller shows first (``EngineSession.quick_preview``), and "full", that pass plus the
full preview after it, which is when the exact preview is on screen. Before the first
preview, the session does what the app's idle time does at launch (``prefetch_style``:
model load, the gallery's styles encoded; here the bench's two paintings stand for the
gallery), timed on its own as "idle at launch". ``--no-quick`` measures the app as it was
before both: the full preview only, nothing prefetched. Wall time and the
process's CPU time are reported: other sessions share this machine, so wall time also
measures their load. Median over the rounds."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402 - after the path set-up above

from bench.release_models import PHOTOS, release_state, styler_model  # noqa: E402 - after the path set-up above
from engine.checkpoint import save_model  # noqa: E402 - after the path set-up above
from engine.options import RenderOptions  # noqa: E402 - after the path set-up above
from styler_app.requests import RenderRequest  # noqa: E402 - after the path set-up above
from styler_app.session import EngineConfig, EngineSession  # noqa: E402 - after the path set-up above

CHANGES = ("first preview", "style change", "strength change", "photo change")


class BenchContext:
    """What the worker's JobContext offers a preview job, minus the GUI signals."""

    def progress(self, fraction: float, message: str = "") -> None:
        pass

    def cancelled(self) -> bool:
        return False

    def check(self) -> None:
        pass


def timed(work) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def one_round(config: EngineConfig, photos: Path, size: int, quick: bool) -> dict[str, tuple[float, ...]]:
    """{change: (first-pixels wall, cpu, full wall, cpu)} for one fresh session."""
    session = EngineSession(config)
    context = BenchContext()
    first = RenderRequest(photos / "photos" / "astronaut.png", photos / "paintings" / "van_gogh_starry_night.jpg")
    style = replace(first, style=photos / "paintings" / "hokusai_great_wave.jpg")
    strength = replace(style, options=RenderOptions(strength=0.6))
    photo = replace(strength, content=photos / "photos" / "living_room.jpg")
    times: dict[str, tuple[float, ...]] = {}
    if quick:
        idle = timed(lambda: [session.prefetch_style(r.style, context) for r in (first, style)])  # type: ignore[arg-type]
        times["idle at launch"] = idle + idle
    for change, request in zip(CHANGES, (first, style, strength, photo), strict=True):
        quick_wall = quick_cpu = 0.0
        if quick:
            quick_wall, quick_cpu = timed(lambda request=request: session.quick_preview(request, size, context))
        wall, cpu = timed(lambda request=request: session.preview(request, size, context))
        full = (quick_wall + wall, quick_cpu + cpu)
        times[change] = ((quick_wall, quick_cpu) if quick else full) + full
    session.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="the preview's longer side (the app's default)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--no-quick", action="store_true", help="the full preview only, as before the quick pass")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    quick = not args.no_quick and hasattr(EngineSession, "quick_preview")
    with tempfile.TemporaryDirectory() as folder:
        model = save_model(styler_model(release_state()), Path(folder) / "random-release.safetensors")
        config = EngineConfig(model_path=str(model), device=args.device)
        rounds = [one_round(config, args.photos, args.size, quick) for _ in range(args.rounds)]
    print(f"preview {args.size} px on {args.device}, {args.threads} threads, median of {args.rounds} rounds"
          f"{'' if quick else ', full preview only'}")
    print(f"{'change':<16} {'first pixels wall':>18} {'cpu':>7} {'full wall':>10} {'cpu':>7}")
    for change in (("idle at launch",) if quick else ()) + CHANGES:
        medians = [statistics.median(r[change][i] for r in rounds) for i in range(4)]
        print(f"{change:<16} {medians[0]:>17.2f}s {medians[1]:>6.2f}s {medians[2]:>9.2f}s {medians[3]:>6.2f}s")


if __name__ == "__main__":
    main()
