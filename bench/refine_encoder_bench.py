"""SAM 2's image embedding on the CPU: what one photo's encoder pass costs, what makes it
cheaper, and EdgeTAM (the mobile SAM 2) against SAM 2.1 Hiera-Tiny.

Released architectures with random weights (no download; time does not depend on the
weights, quality does and is not measured here). One 1024 × 1024 input, as the processor
makes from any photo.

    python bench/refine_encoder_bench.py [--threads 2] [--repeats 3] [--variants all|base]

Variants of the Hiera-Tiny pass:
  fp32                 as Styler runs it (torch.inference_mode, float32)
  fp32 channels_last   the same with NHWC memory layout (input and model)
  bf16 autocast        bfloat16 matmuls; this AVX2 CPU has no bf16 instructions
  int8 dynamic         torch.ao dynamic quantisation of every nn.Linear (weights int8)
EdgeTAM needs ``timm`` (its RepViT backbone comes through transformers' TimmWrapper); it
is skipped, and says so, where timm is not installed. Runs are interleaved and the best
and median of ``--repeats`` are shown: on a shared CPU the load drifts between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _once(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and process-CPU seconds of one run."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - start_cpu


def _gflop(fn: Callable[[], object]) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def _sam2() -> torch.nn.Module:
    from transformers import Sam2Config, Sam2Model

    torch.manual_seed(0)
    return Sam2Model(Sam2Config()).eval()  # transformers' defaults are SAM 2.1 Hiera-Tiny


def _edgetam() -> torch.nn.Module | None:
    try:
        import timm  # noqa: F401 - EdgeTAM's backbone is a timm model
    except ImportError:
        return None
    from transformers import EdgeTamConfig, EdgeTamModel, EdgeTamVisionConfig, TimmWrapperConfig

    # The released checkpoint's backbone (the library's default config names resnet50).
    backbone = TimmWrapperConfig(
        architecture="repvit_m1", model_args={"in_chans": 3, "features_only": True, "out_indices": [0, 1, 2, 3]}
    )
    torch.manual_seed(0)
    return EdgeTamModel(EdgeTamConfig(vision_config=EdgeTamVisionConfig(backbone_config=backbone))).eval()


def _embed(model: torch.nn.Module, pixels: torch.Tensor) -> Callable[[], object]:
    def run() -> object:
        with torch.inference_mode():
            return model.get_image_embeddings(pixels)  # type: ignore[operator]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", choices=("all", "base"), default="all")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, load average {os.getloadavg()[0]:.1f} at start")
    pixels = torch.randn(1, 3, 1024, 1024)
    sam2 = _sam2()
    rows: list[tuple[str, float | None, Callable[[], object]]] = [
        ("SAM 2.1 Hiera-Tiny, fp32", _gflop(_embed(sam2, pixels)), _embed(sam2, pixels)),
    ]
    if args.variants == "all":
        nhwc = _sam2().to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        rows.append(("  channels_last", None, _embed(nhwc, pixels.to(memory_format=torch.channels_last))))

        def bf16() -> object:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return _embed(sam2, pixels)()

        rows.append(("  bf16 autocast", None, bf16))
        from torch.ao.quantization import quantize_dynamic

        int8 = quantize_dynamic(_sam2(), {torch.nn.Linear}, dtype=torch.qint8)
        rows.append(("  int8 dynamic (nn.Linear)", None, _embed(int8, pixels)))
    edgetam = _edgetam()
    if edgetam is None:
        print("EdgeTAM: skipped, timm is not installed (pip install timm to measure it)")
    else:
        rows.append(("EdgeTAM (RepViT-M1), fp32", _gflop(_embed(edgetam, pixels)), _embed(edgetam, pixels)))
        if args.variants == "all":
            from timm.utils import reparameterize_model

            # As it would be deployed: RepViT's training-time branches fused (same outputs
            # to 1e-9 here), convolutions in NHWC, which oneDNN prefers.
            fused = _edgetam()
            assert fused is not None
            reparameterize_model(fused.vision_encoder.backbone, inplace=True)
            fused = fused.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            rows.append(("  fused + channels_last", None, _embed(fused, pixels.to(memory_format=torch.channels_last))))
    # Interleaved (one run of each, in turn, ``repeats`` times): on a shared machine the
    # load drifts, and each variant should meet the same drift. Best = the least disturbed run.
    for _, _, fn in rows:
        fn()  # warm-up
    times: list[list[tuple[float, float]]] = [[] for _ in rows]
    for _ in range(args.repeats):
        for (_, _, fn), runs in zip(rows, times, strict=True):
            runs.append(_once(fn))
    print(f"  {'':<32} {'':>11}  {'best wall':>9} {'median wall':>11} {'median CPU':>10}  (ms)")
    for (name, gflop, _), runs in zip(rows, times, strict=True):
        work = f"{gflop:6.1f} GFLOP" if gflop is not None else " " * 11
        wall = [w * 1000 for w, _ in runs]
        cpu = statistics.median(c * 1000 for _, c in runs)
        print(f"  {name:<32} {work}  {min(wall):9.0f} {statistics.median(wall):11.0f} {cpu:10.0f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
