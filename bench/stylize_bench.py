"""Stylisation speed and memory: Styler against the straightforward implementation.

One run, the same random weights in the release layout for both, content at each size
(square) and the style at 512 px (Styler's default ``--style-size``). Each measurement runs
in its own child process so peak memory (RSS on the CPU, the allocator's peak on CUDA) is
that configuration's alone.

    .venv/bin/python bench/stylize_bench.py                     # CPU, 256…2048 px
    .venv/bin/python bench/stylize_bench.py --device cuda --precision fp32 bf16

Columns: seconds for one full stylisation (style + content encode, attention, decode),
peak memory, the reference's time over Styler's, and Styler's achieved FLOP/s as a fraction
of this machine's large-matmul FLOP/s measured by the same script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

STYLE_SIZE = 512
KEY_WIDTH = {3: 448, 4: 960, 5: 1472}
VALUE_WIDTH = {3: 256, 4: 512, 5: 512}
DOWNSAMPLE = {3: 4, 4: 8, 5: 16}


def attention_flops(content_side: int, style_side: int) -> int:
    """Useful attention work: QKᵀ plus A·[V, V⊙V] at each level (unpadded widths)."""
    total = 0
    for level, factor in DOWNSAMPLE.items():
        n_c = (content_side // factor) ** 2
        n_s = (-(-style_side // factor)) ** 2  # ceil-mode pools round up
        total += 2 * n_c * n_s * (KEY_WIDTH[level] + 2 * VALUE_WIDTH[level])
    return total


def reference_attention_bytes(content_side: int, style_side: int) -> int:
    """What materialising A costs at level 3 (logits, softmax, and a product's temporary)."""
    n_c, n_s = (content_side // 4) ** 2, (style_side // 4) ** 2
    return 3 * n_c * n_s * 4


def matmul_flops_per_second(device: torch.device, dtype: torch.dtype) -> float:
    n = 4096
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    _sync(device)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssPeak:
    """Highest resident-memory rise over the block, sampled every 2 ms on a thread (the
    process-lifetime high-water mark would include model loading)."""

    def __enter__(self) -> "RssPeak":
        self.baseline = _rss_bytes()
        self.peak_rise = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rise = max(self.peak_rise, _rss_bytes() - self.baseline)
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rise = max(self.peak_rise, _rss_bytes() - self.baseline)


def convolution_flops(size: int, device_name: str, precision: str) -> int:
    """Convolution FLOPs of one stylisation at ``size``, counted on two small contents: the
    style's encoding is fixed, the content's encoder and decoder work grows with its area."""
    import numpy as np

    from engine.network import StyleNet
    from engine.stylizer import Stylizer

    def counted(side: int) -> int:
        stylizer = Stylizer(StyleNet(), device=device_name, precision=precision)
        rng = np.random.default_rng(0)
        with FlopCounterMode(display=False) as counter:
            stylizer.set_style(rng.random((STYLE_SIZE, STYLE_SIZE, 3), dtype=np.float32))
            stylizer.set_content(rng.random((side, side, 3), dtype=np.float32))
            stylizer.render()
        # Attention is counted analytically (the CPU's fused kernel is invisible to the
        # counter, CUDA's is not), so only convolutions are taken from here.
        return sum(n for op, n in counter.get_flop_counts().get("Global", {}).items() if "convolution" in str(op))

    small, large = counted(64), counted(128)
    per_64px_tile = (large - small) / 3  # 128² is four 64² areas
    return int(small - per_64px_tile + per_64px_tile * (size / 64) ** 2)


def child(impl: str, size: int, weights_dir: str, device_name: str, precision: str) -> dict:
    """One measurement in a fresh process: returns seconds, peak bytes and conv FLOPs."""
    import numpy as np

    from engine.stylizer import Stylizer
    from tests import reference_adaattn as reference
    from tests.release_weights import make_release_state

    device = torch.device(device_name)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    rng = np.random.default_rng(0)
    content = rng.random((size, size, 3), dtype=np.float32)
    style = rng.random((STYLE_SIZE, STYLE_SIZE, 3), dtype=np.float32)

    if impl == "styler":
        stylizer = Stylizer.from_file(Path(weights_dir) / "model.safetensors", device=device_name,
                                      precision=precision)

        def run() -> None:
            stylizer.clear_caches()
            stylizer.set_style(style)
            stylizer.set_content(content)
            stylizer.render()
    else:
        state = make_release_state(seed=0)
        weights = {k: {n: t.to(device, dtype) for n, t in v.items()} for k, v in state.items()}
        c = torch.from_numpy(content).permute(2, 0, 1)[None].to(device, dtype)
        s = torch.from_numpy(style).permute(2, 0, 1)[None].to(device, dtype)

        def run() -> None:
            with torch.no_grad():
                reference.stylize(c, s, weights).float().cpu()

    # First run: peak memory over the loaded-model baseline, nothing cached yet. Second
    # run: the time, with kernels selected and the allocator warm.
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        baseline = torch.cuda.memory_allocated(device)
        run()
        _sync(device)
        peak = torch.cuda.max_memory_allocated(device) - baseline
    else:
        with RssPeak() as rss:
            run()
        peak = rss.peak_rise
    start = time.perf_counter()
    run()
    _sync(device)
    seconds = time.perf_counter() - start
    conv_flops = convolution_flops(size, device_name, precision) if impl == "styler" else 0
    return {"seconds": seconds, "peak_bytes": peak, "conv_flops": conv_flops}


def measure(impl: str, size: int, weights_dir: str, device: str, precision: str) -> dict:
    cmd = [sys.executable, __file__, "--child", impl, str(size), weights_dir, device, precision]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"error": tail[0][:120]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    parser.add_argument("--memory-budget-gb", type=float, default=None,
                        help="skip the reference where its estimate exceeds this (default: 80%% of RAM)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        impl, size, weights_dir, device, precision = args.child
        print(json.dumps(child(impl, int(size), weights_dir, device, precision)))
        return

    from engine.checkpoint import import_release
    from tests.release_weights import write_release

    device = torch.device(args.device)
    budget = (args.memory_budget_gb or 0.8 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9) * 1e9
    if device.type == "cuda":
        budget = args.memory_budget_gb * 1e9 if args.memory_budget_gb else 0.8 * torch.cuda.get_device_properties(device).total_memory
    with tempfile.TemporaryDirectory() as tmp:
        write_release(Path(tmp) / "release")
        import_release(Path(tmp) / "release", Path(tmp) / "model.safetensors")
        print(f"device: {args.device}  torch {torch.__version__}  threads {torch.get_num_threads()}")
        for precision in args.precision:
            dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
            peak_flops = matmul_flops_per_second(device, dtype)
            print(f"\n{precision}: large-matmul throughput {peak_flops / 1e9:.0f} GFLOP/s")
            print("| size | Styler s | Styler peak | reference s | reference peak | ref/Styler time | Styler FLOP/s ÷ matmul |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            for size in args.sizes:
                ours = measure("styler", size, tmp, args.device, precision)
                estimate = reference_attention_bytes(size, STYLE_SIZE)
                if estimate > budget:
                    theirs = {"error": f"skipped: needs ≈{estimate / 1e9:.0f} GB for the attention matrices alone"}
                else:
                    theirs = measure("reference", size, tmp, args.device, precision)
                print(_row(size, ours, theirs, peak_flops), flush=True)


def _row(size: int, ours: dict, theirs: dict, peak_flops: float) -> str:
    def cell(m: dict, key: str) -> str:
        if "error" in m:
            return m["error"] if key == "seconds" else "—"
        return f"{m['seconds']:.2f}" if key == "seconds" else f"{m['peak_bytes'] / 2**30:.2f} GiB"

    ratio = "—"
    efficiency = "—"
    if "error" not in ours:
        work = ours["conv_flops"] + attention_flops(size, STYLE_SIZE)
        efficiency = f"{work / ours['seconds'] / peak_flops:.2f}"
        if "error" not in theirs:
            ratio = f"{theirs['seconds'] / ours['seconds']:.2f}×"
    return (f"| {size} | {cell(ours, 'seconds')} | {cell(ours, 'peak')} | {cell(theirs, 'seconds')} | "
            f"{cell(theirs, 'peak')} | {ratio} | {efficiency} |")


if __name__ == "__main__":
    main()
