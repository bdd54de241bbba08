"""How far each way of shortening the style's attention moves the picture from exact attention.

For real photos (content, 512 px) and paintings (style, 512 px), one model (the bench's seeded
release-layout weights), every level computed with:
  exact     every style position;
  pooled    above 4096 positions, mean keys and mean V, V⊙V per cell;
  grid      a stratified grid: one position (the cell's top-left) per cell of the same size;
  release   the released code's seeded random subset (seeds 6666, 1, 2); with the authors'
            6666 it is Styler's default.
Distance = RMS difference of the 8-bit output images. The release's own spread is the
distance between its outputs for two seeds: a reduction inside that spread changes the
picture less than the authors' code changes it from one seed to another.

    .venv/bin/python bench/style_attention_accuracy.py [--photos DIR] [--pairs N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.release_models import PHOTOS, release_state, styler_model  # noqa: E402
from engine.attention import POOLED_MAX_POSITIONS, make_style_memory, pooling_factor  # noqa: E402
from engine.image_io import load_image, resize_to_max_side  # noqa: E402
from engine.image_sizes import pad_to_stride  # noqa: E402
from engine.network import StyleNet  # noqa: E402

RELEASE_SEEDS = (6666, 1, 2)
CONTENTS = ("photos/cat_chelsea.png", "photos/living_room.jpg", "photos/portrait_bedouin_woman.jpg")
STYLES = ("paintings/van_gogh_starry_night.jpg", "paintings/hokusai_great_wave.jpg",
          "paintings/kandinsky_composition_vii.jpg")


def as_tensor(path: Path, size: int) -> torch.Tensor:
    rgb = resize_to_max_side(load_image(path), size).rgb
    return pad_to_stride(torch.from_numpy(rgb).permute(2, 0, 1)[None].contiguous())[0]


def grid_memories(model: StyleNet, style) -> dict:  # type: ignore[no-untyped-def]
    """One position per pooling cell, the same cells as ``pooled``."""
    out = {}
    for level in model.levels:
        module = model.attn[str(level)]
        keys, values = module.g(style.key[level]), module.h(style.feature[level])
        f = pooling_factor(keys.shape[-2], keys.shape[-1], POOLED_MAX_POSITIONS[level])
        keys, values = keys[..., ::f, ::f], values[..., ::f, ::f]
        out[level] = make_style_memory(keys.flatten(2).transpose(1, 2), values.flatten(2).transpose(1, 2))
    return out


def render(model: StyleNet, content, memories) -> np.ndarray:  # type: ignore[no-untyped-def]
    attended = {level: model.attend(content, memories, level) for level in model.levels}
    image = model.decode(attended)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    return np.round(image * 255.0)


def rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    model = styler_model(release_state()).eval()
    rows = []
    pairs = list(itertools.product(CONTENTS, STYLES))[:: max(1, len(CONTENTS) * len(STYLES) // args.pairs)]
    print("| content | style | pooled↔exact | grid↔exact | default (release, 6666)↔exact | release↔exact "
          "| release seed↔seed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    with torch.inference_mode():
        for content_name, style_name in pairs[: args.pairs]:
            content = model.features(as_tensor(args.photos / content_name, args.size))
            style = model.features(as_tensor(args.photos / style_name, args.size))
            exact = render(model, content, model.style_memories(style, "exact"))
            pooled = render(model, content, model.style_memories(style, "pooled"))
            grid = render(model, content, grid_memories(model, style))
            release = [render(model, content, model.style_memories(style, "release", s)) for s in RELEASE_SEEDS]
            row = {
                "pooled": rms(pooled, exact),
                "grid": rms(grid, exact),
                "default": rms(release[0], exact),
                "release": statistics.mean(rms(r, exact) for r in release),
                "seeds": statistics.mean(rms(a, b) for a, b in itertools.combinations(release, 2)),
            }
            rows.append(row)
            print(f"| {Path(content_name).stem} | {Path(style_name).stem} | {row['pooled']:.2f} | "
                  f"{row['grid']:.2f} | {row['default']:.2f} | {row['release']:.2f} | {row['seeds']:.2f} |", flush=True)
    mean = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
    print(f"| mean | | {mean['pooled']:.2f} | {mean['grid']:.2f} | {mean['default']:.2f} | {mean['release']:.2f} "
          f"| {mean['seeds']:.2f} |")
    print("RMS difference in 8-bit levels; release columns average over seeds", RELEASE_SEEDS)


if __name__ == "__main__":
    main()
