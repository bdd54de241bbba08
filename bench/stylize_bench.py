"""Stylisation speed and memory: Styler against the AdaAttN authors' own forward pass.

One process, one set of seeded random weights in the release's file format loaded into
both (bench/release_models.py), a real photo cropped square at each size and a real
painting at 512 × 512 (the authors' test resolution). Each round runs every variant once,
in an order that rotates from round to round; the tables give medians over the rounds.

Variants:
  authors         their forward (bench/authors_adaattn.py): subsampling on, seed 6666
  styler          Styler's default (the release's subset of style positions with their
                  seed, so the same work and pixels; Winograd convolutions on the CPU),
                  everything recomputed
  styler-pooled   Styler attending to 2×2 cells of the style instead (--style-attention pooled)
  styler-exact    Styler attending to every style position (--exact)
  styler-direct   Styler's default without Winograd convolutions on the CPU (--direct)
  styler-folder   Styler's default on one photo of a folder stylised in one style: the style
                  was encoded once for the folder (as `styler batch` and the app do), the
                  photo is encoded, attended and decoded. The authors' code has no such
                  mode: their test loop runs the whole forward, style included, per photo.

"defaults" = authors ÷ styler (also the same work); "pooled" = authors ÷ styler-pooled; "per photo of a folder" =
authors ÷ styler-folder. Except for styler-folder, seconds cover one full
stylisation from pixels in memory: both images encoded, attention, decode. Peak = the highest
resident-memory rise during the run (CPU, sampled every 2 ms) or the allocator's peak (CUDA).

    .venv/bin/python bench/stylize_bench.py                              # CPU, 256…1024
    .venv/bin/python bench/stylize_bench.py --sizes 2048 --rounds 1
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.authors_adaattn import AUTHORS_SEED  # noqa: E402  (their test options' seed)
from bench.release_models import authors_model, release_state, styler_model  # noqa: E402
from engine.devices import release_cached_memory  # noqa: E402
from engine.errors import StylerError  # noqa: E402
from engine.stylizer import Stylizer  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"
CONTENT_IMAGE, STYLE_IMAGE = IMAGES / "living_room.jpg", IMAGES / "hokusai_great_wave.jpg"
STYLE_SIZE = 512


def square_image(path: Path, side: int) -> np.ndarray:
    """The image's central square at side × side, (H, W, 3) float32 in [0, 1]."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        short = min(img.size)
        left, top = (img.width - short) // 2, (img.height - short) // 2
        img = img.crop((left, top, left + short, top + short)).resize((side, side), Image.BICUBIC)
        return np.asarray(img, dtype=np.float32) / 255.0


def authors_attention_bytes(side: int, style_side: int = STYLE_SIZE) -> int:
    """Their level-3 matrices alone: logits and softmax, (side/4)² × min(N_s, 4096) floats."""
    n_s = min((style_side // 4) ** 2, 64 * 64)
    return 2 * (side // 4) ** 2 * n_s * 4


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Peak memory the block added: CUDA's allocator peak, or the sampled RSS rise on CPU."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak = 0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            return self
        self._base = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes() - self._base)
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device) - self._base
            return
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes() - self._base)


def to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].contiguous().to(device)


def variant_names(precisions: list[str], exact: bool, authors: bool = True, direct: bool = False) -> list[str]:
    modes = ["", "-pooled", "-folder"] + (["-exact"] if exact else []) + (["-direct"] if direct else [])
    names = ["authors"] if authors and "fp32" in precisions else []
    for precision in precisions:
        tag = "" if precision == "fp32" else f" {precision}"
        names += [f"styler{mode}{tag}" for mode in modes]
    return names


def make_variants(
    state: dict, device: torch.device, names: list[str], content: np.ndarray, style: np.ndarray
) -> dict[str, Callable[[], object]]:
    """name -> a function that runs one full stylisation of ``content`` in ``style``. Names as
    ``variant_names`` gives them: "authors", or "styler[-pooled|-exact|-direct|-folder][ bf16]"."""
    variants: dict[str, Callable[[], object]] = {}
    models: dict[tuple[str, bool], object] = {}
    for name in names:
        if name == "authors":
            variants[name] = _authors_run(authors_model(state, seed=AUTHORS_SEED).to(device), content, style, device)
            continue
        variant, _, precision = name.partition(" ")
        mode = {"styler": "release", "styler-pooled": "pooled", "styler-exact": "exact", "styler-direct": "release",
                "styler-folder": "release"}[variant]
        winograd = variant != "styler-direct"
        precision = precision or "fp32"
        # One model per precision and convolution kind: Stylizer casts its model, and
        # switches its convolutions, in place.
        if (precision, winograd) not in models:
            models[precision, winograd] = styler_model(state)
        stylizer = Stylizer(models[precision, winograd], device=str(device), precision=precision,  # type: ignore[arg-type]
                            style_attention=mode, style_size=None, winograd=winograd)
        run = _folder_run if variant == "styler-folder" else _styler_run
        variants[name] = run(stylizer, content, style)
    return variants


def _authors_run(model: torch.nn.Module, content: np.ndarray, style: np.ndarray,
                 device: torch.device) -> Callable[[], object]:
    c, s = to_tensor(content, device), to_tensor(style, device)

    def run() -> object:
        with torch.no_grad():
            return model(c, s).cpu()

    return run


def _folder_run(stylizer: Stylizer, content: np.ndarray, style: np.ndarray) -> Callable[[], object]:
    stylizer.set_style(style)  # once for the whole folder
    photos = itertools.count()

    def run() -> object:
        stylizer.set_content(content, key=f"photo {next(photos)}")  # a new photo: encoded again
        result = stylizer.render()
        stylizer.forget_content()  # nothing held between runs: other variants need the card
        return result

    return run


def _styler_run(stylizer: Stylizer, content: np.ndarray, style: np.ndarray) -> Callable[[], object]:
    def run() -> object:
        # Nothing cached, as for a new photo in a new style; the allocator stays warm, as it
        # does for the authors' model and in any session that has rendered before.
        stylizer.set_style(style)
        stylizer.set_content(content)
        result = stylizer.render()
        stylizer.clear_caches(release_memory=False)  # nothing held between runs
        return result

    return run


def measure(run: Callable[[], object], device: torch.device) -> dict:
    """One timed run. Allocators stay warm between runs of every variant (the peak is the
    allocator's own statistic); a failure hands the card's cached blocks back."""
    try:
        with PeakMemory(device) as memory:
            start, cpu_start = time.perf_counter(), time.process_time()
            run()
            sync(device)
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    except torch.OutOfMemoryError:
        release_cached_memory(device)
        return {"error": "out of memory"}
    except (RuntimeError, StylerError) as exc:
        # One variant failing (CPU allocation failures are RuntimeErrors; Styler reports an
        # out-of-memory it could not recover from as a StylerError) must not end the run.
        release_cached_memory(device)
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:100]}"}
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_bytes": memory.peak}


def bench_size(
    side: int, state: dict, device: torch.device, names: list[str], rounds: int,
    style_size: int = STYLE_SIZE, warmup: bool = False,
) -> dict[str, dict]:
    """{variant: {"seconds": [...], "cpu_seconds": [...], "peak_bytes": [...]} or {"error": ...}}
    for one content size. ``warmup`` runs each variant once untimed first (kernel selection)."""
    content = square_image(CONTENT_IMAGE, side)
    style = square_image(STYLE_IMAGE, style_size)
    variants = make_variants(state, device, names, content, style)
    results: dict[str, dict] = {name: {"seconds": [], "cpu_seconds": [], "peak_bytes": []} for name in variants}
    for r in range(-1 if warmup else 0, rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            if "error" in results[name]:
                continue
            m = measure(variants[name], device)
            if "error" in m:
                results[name] = m
                continue
            if r < 0:
                continue
            for key in ("seconds", "cpu_seconds", "peak_bytes"):
                results[name][key].append(m[key])
            print(f"  {side}² round {r + 1} {name}: {m['seconds']:.3f} s ({m['cpu_seconds']:.2f} CPU-s), "
                  f"{m['peak_bytes'] / 2**30:.2f} GiB", file=sys.stderr, flush=True)
    return results


def median(result: dict, key: str) -> float:
    return statistics.median(result[key])


def table(per_size: dict[int, dict[str, dict]]) -> str:
    """Markdown: one row per size and variant (medians), then the two ratios per size, by wall
    time and by CPU time (the process's CPU seconds, steadier on a shared machine)."""
    lines = ["| content | variant | wall s | CPU s | peak GiB | rounds |", "|---:|---|---:|---:|---:|---:|"]
    for side, results in per_size.items():
        for name in sorted(results, key=_order):
            r = results[name]
            if "error" in r:
                lines.append(f"| {side}² | {name} | {r['error']} | | | |")
                continue
            lines.append(f"| {side}² | {name} | {median(r, 'seconds'):.3f} | {median(r, 'cpu_seconds'):.2f} | "
                         f"{median(r, 'peak_bytes') / 2**30:.2f} | {len(r['seconds'])} |")
    lines += ["", "| content | defaults, the same work: authors ÷ styler (wall, CPU) | pooled: authors ÷ styler-pooled "
              "(wall, CPU) | per photo of a folder: authors ÷ styler-folder (wall, CPU) | styler peak ÷ authors peak |",
              "|---:|---:|---:|---:|---:|"]
    for side, results in per_size.items():
        def ratio(a: str, b: str, key: str, results: dict = results) -> str:
            if not all(n in results and "error" not in results[n] for n in (a, b)):
                return "—"
            return f"{median(results[a], key) / median(results[b], key):.2f}"

        lines.append(f"| {side}² | {ratio('authors', 'styler', 'seconds')}×, {ratio('authors', 'styler', 'cpu_seconds')}× | "
                     f"{ratio('authors', 'styler-pooled', 'seconds')}×, {ratio('authors', 'styler-pooled', 'cpu_seconds')}× | "
                     f"{ratio('authors', 'styler-folder', 'seconds')}×, {ratio('authors', 'styler-folder', 'cpu_seconds')}× | "
                     f"{ratio('styler', 'authors', 'peak_bytes')} |")
    return "\n".join(lines)


def _order(name: str) -> tuple[int, str]:
    return (0 if name == "authors" else 1, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    parser.add_argument("--exact", action="store_true", help="also time Styler's exact attention")
    parser.add_argument("--direct", action="store_true",
                        help="also time Styler's default with direct convolutions only (no Winograd on the CPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--memory-budget-gb", type=float, default=None,
                        help="skip the authors' code where its attention matrices alone exceed this "
                        "(default: 80%% of the device's memory)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device: {args.device}  torch {torch.__version__}  threads {torch.get_num_threads()}  "
          f"rounds {args.rounds}", flush=True)
    budget = args.memory_budget_gb * 1e9 if args.memory_budget_gb else 0.8 * device_memory(device)
    state = release_state()
    per_size = {}
    for side in args.sizes:
        skip = authors_attention_bytes(side) > budget
        names = variant_names(args.precision, args.exact, authors=not skip, direct=args.direct)
        per_size[side] = bench_size(side, state, device, names, args.rounds)
        if skip:
            per_size[side]["authors"] = {"error": "skipped: out of memory (estimate)"}
    print(table(per_size))


def device_memory(device: torch.device) -> float:
    if device.type == "cuda":
        return float(torch.cuda.get_device_properties(device).total_memory)
    return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


if __name__ == "__main__":
    main()
