"""Training speed: seconds per optimiser step of ``styler train``'s step, and what each
optimisation buys over a plain implementation of the same model.

  plain-fp32    attention materialised as softmax(QKᵀ) then two bmm (what the released
                code does), fp32, default memory format: the baseline
  fp32          Styler: fused SDPA attention that never holds the N_c × N_s matrix
  bf16          + bf16 autocast (+ channels-last on CUDA)
  bf16-compile  + torch.compile (CUDA only, with --compile)
  bf16-no4      bf16 without AdaAttN level 4 (the seed's module-reduction ablation)
Each variant: forward (network + losses), backward and an Adam step on random full-size
weights and random images (data loading is not timed: workers overlap it with compute).

    .venv/bin/python bench/train_bench.py                      # CUDA: batch 4, 512 px crops
    .venv/bin/python bench/train_bench.py --device cpu --size 64 --steps 3
    # the Training studio's GPU figures: fp32 vs bf16 at 256 and 512 px (about 2 minutes)
    .venv/bin/python bench/train_bench.py --device cuda --sizes 256 512 --variants fp32 bf16 --json train.json
Peak memory is the device's allocator high-water mark on CUDA (reset per variant) and is
not measured on the CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import engine.attention as attention  # noqa: E402
from engine.network import StyleNet, StyleNetConfig  # noqa: E402
from engine.train.losses import LossWeights  # noqa: E402
from engine.train.objective import StyleObjective  # noqa: E402


def _materialised_mean_std(query, memory, chunk_size=None):
    """The plain formulation: the full (B, N_c, N_s) attention matrix, then two products."""
    width = memory.keys.shape[-1]
    query = F.pad(query, (0, width - query.shape[-1])) if width > query.shape[-1] else query
    attn = torch.softmax(torch.bmm(query, memory.keys.transpose(1, 2)), dim=-1)  # (B, N_c, N_s)
    out = torch.bmm(attn, memory.values)
    c = memory.channels
    mean, second = out[..., :c].float(), out[..., c : 2 * c].float()
    return mean + memory.value_mean.float(), torch.relu(second - mean * mean).sqrt()


@contextmanager
def plain_attention():
    saved = attention.attention_mean_std
    attention.attention_mean_std = _materialised_mean_std
    try:
        yield
    finally:
        attention.attention_mean_std = saved


def time_variant(device, levels, size, batch, steps, warmup, dtype, channels_last, compile_, plain) -> tuple[float, int | None]:
    """-> (seconds per step, peak device memory in bytes or None on the CPU)."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(0)
    net = StyleNet(StyleNetConfig(levels=levels)).to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    objective = StyleObjective(net, LossWeights())
    step_fn = torch.compile(objective) if compile_ else objective
    optimizer = torch.optim.Adam(net.trainable_parameters(), lr=2e-4)
    content = torch.rand(batch, 3, size, size, device=device)
    style = torch.rand(batch, 3, size, size, device=device)
    if channels_last:
        content = content.contiguous(memory_format=torch.channels_last)
        style = style.contiguous(memory_format=torch.channels_last)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else nullcontext()

    def step() -> None:
        with autocast:
            _, terms = step_fn(content, style)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    with plain_attention() if plain else nullcontext():
        for _ in range(warmup):
            step()
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
    seconds = (time.perf_counter() - start) / steps
    return seconds, torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, help="crop size (default 512 on CUDA, 64 on the CPU)")
    parser.add_argument("--sizes", type=int, nargs="+", help="several crop sizes, one table each (overrides --size)")
    parser.add_argument("--variants", nargs="+", help="only these variants (e.g. fp32 bf16)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, help="timed steps (default 20 on CUDA, 3 on the CPU)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (CUDA)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    sizes = args.sizes or [args.size or (512 if cuda else 64)]
    steps = args.steps or (20 if cuda else 3)
    name = torch.cuda.get_device_name(device) if cuda else f"CPU, {torch.get_num_threads()} threads"

    full = (3, 4, 5)
    variants = [
        ("plain-fp32", full, torch.float32, False, False, True),
        ("fp32", full, torch.float32, False, False, False),
        ("bf16", full, torch.bfloat16, cuda, False, False),
    ]
    if args.compile:
        variants.append(("bf16-compile", full, torch.bfloat16, cuda, True, False))
    variants.append(("bf16-no4", (3, 5), torch.bfloat16, cuda, False, False))
    if args.variants:
        unknown = set(args.variants) - {v[0] for v in variants}
        if unknown:
            parser.error(f"unknown variant(s) {', '.join(sorted(unknown))}")
        variants = [v for v in variants if v[0] in args.variants]

    results: dict[int, dict[str, dict[str, float | None]]] = {}
    for size in sizes:
        print(f"# training step, batch {args.batch}, {size}×{size} crops, {name}, torch {torch.__version__}")
        print(f"{'variant':<14} {'s/step':>9} {'steps/s':>8} {'img/s':>8} {'peak GiB':>9} {'vs first':>9}")
        table = results.setdefault(size, {})
        for label, levels, dtype, channels_last, compile_, plain in variants:
            try:
                seconds, peak = time_variant(device, levels, size, args.batch, steps, args.warmup, dtype,
                                             channels_last, compile_, plain)
            except torch.OutOfMemoryError:
                print(f"{label:<14} out of memory")
                torch.cuda.empty_cache()
                continue
            first = next(iter(table.values()), None)
            table[label] = {"seconds_per_step": seconds, "peak_bytes": peak}
            speedup = f"{first['seconds_per_step'] / seconds:.2f}×" if first else "–"
            peak_text = f"{peak / 2**30:.2f}" if peak is not None else "–"
            print(f"{label:<14} {seconds:9.4f} {1 / seconds:8.3f} {args.batch / seconds:8.2f} {peak_text:>9} {speedup:>9}")
    if args.json:
        args.json.write_text(json.dumps({"device": name, "batch": args.batch, "steps": steps, "results": results}, indent=2))


if __name__ == "__main__":
    main()
