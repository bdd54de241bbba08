"""The ablation report folder: a labelled comparison grid, loss-curve plots, report.md."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from PIL import Image, ImageDraw, ImageFont

from engine.atomic import write_atomically
from engine.devices import resolve_device
from engine.train.plots import line_plot

if TYPE_CHECKING:
    from engine.train.ablate import VariantResult

HEADER = 22  # pixels of heading above each grid column
PAD = 4
MIN_TILE = 128  # small training crops are enlarged so that column headings fit

CURVES = {  # file stem -> (metrics key, plot title)
    "loss": ("loss", "weighted total loss"),
    "global": ("global", "global style loss (unweighted)"),
    "local": ("local", "local feature loss (unweighted)"),
    "skew": ("skew", "skewness loss (unweighted)"),
}


def _to_pil(image: torch.Tensor) -> Image.Image:
    array = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
    return Image.fromarray(array)


def comparison_grid(
    content: torch.Tensor, style: torch.Tensor, columns: list[torch.Tensor], labels: list[str]
) -> Image.Image:
    """Rows: content images. Columns: content, style, then one per variant, headed by its label."""
    rows, _, crop, _ = content.shape
    size = max(crop, MIN_TILE)
    headings = ["content", "style", *labels]
    cells = [content, style.expand(rows, -1, -1, -1), *columns]
    grid = Image.new("RGB", (len(cells) * (size + PAD) + PAD, HEADER + rows * (size + PAD) + PAD), "white")
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default()
    for c, (heading, images) in enumerate(zip(headings, cells, strict=True)):
        x = PAD + c * (size + PAD)
        draw.text((x, 5), heading, fill="black", font=font)
        for r in range(rows):
            tile = _to_pil(images[r]).resize((size, size), Image.Resampling.NEAREST)
            grid.paste(tile, (x, HEADER + PAD + r * (size + PAD)))
    return grid


def _label(result: VariantResult) -> str:
    stopped = f" (stopped at {result.stopped_at})" if result.stopped_at is not None else ""
    return result.variant.label + stopped


def _final(result: VariantResult, key: str) -> str:
    return f"{result.metrics[-1][key]:.4g}" if result.metrics else "–"


def write_report(
    study: str,
    results: list[VariantResult],
    content: torch.Tensor,
    style: torch.Tensor,
    columns: list[torch.Tensor],
    out: Path,
    note: str = "",
) -> Path:
    """``note``: why the report covers fewer variants than the study has (it was stopped),
    shown above the table."""
    labels = [r.variant.label for r in results]  # the table says which one was stopped: headings stay short
    grid = comparison_grid(content, style, columns, labels)
    write_atomically(out / "grid.png", lambda tmp: grid.save(tmp, format="PNG"))
    plots = []
    for stem, (key, title) in CURVES.items():
        if key == "skew" and study != "skew":
            continue
        series = {r.variant.label: [(m["step"], m[key]) for m in r.metrics] for r in results}
        plots.append(line_plot(series, title, "step", key, out / f"{stem}.png").name)

    base = results[0]
    reference = base.seconds_per_step
    cfg = base.config
    lines = [
        f"# Ablation: {study}",
        "",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `styler ablate {study}`. Each variant "
        f"trained {cfg.steps} steps at batch {cfg.batch_size}, crop {cfg.crop_size} px (load {cfg.load_size}), "
        f"lr {cfg.lr:g}, seed {cfg.seed}, precision {cfg.precision}, device {resolve_device(cfg.device)}, from "
        f"`{cfg.init or cfg.encoder}`; content `{cfg.content}`, style `{cfg.style}`. Runs: `runs/<variant>/`.",
        "",
        *([f"**Not complete:** {note}. This report covers the variants trained so far.", ""] if note else []),
        "| variant | levels | λg | λl | λskew | s / step | vs first | final loss | final global | final local |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r.config
        relative = r.seconds_per_step / reference if reference and math.isfinite(reference) else float("nan")
        levels = ",".join(map(str, r.levels))
        lines.append(
            f"| {_label(r)} | {levels} | {c.lambda_global:g} | {c.lambda_local:g} | {c.lambda_skew:g} | "
            f"{r.seconds_per_step:.4f} | {relative:.2f}× | {_final(r, 'loss')} | {_final(r, 'global')} | "
            f"{_final(r, 'local')} |"
        )
    lines += [
        "",
        "Time per step is the mean wall time of the logged intervals after the first (warm-up). "
        "The seed paper reports 128 s vs 115 s per epoch without level 4 on an A100 (−10 %); "
        "short CPU runs time differently, and only relative numbers compare.",
        "",
        "## Results",
        "",
        "Rows: content images; columns: the content, the style, then each variant.",
        "",
        "![comparison grid](grid.png)",
        "",
        "## Loss curves",
        "",
        "Unweighted terms compare across λ settings; the weighted total does not.",
        "",
        *[f"![{name}]({name})" for name in plots],
        "",
    ]
    path = out / "report.md"
    write_atomically(path, lambda tmp: Path(tmp).write_text("\n".join(lines), encoding="utf-8"))
    return path
