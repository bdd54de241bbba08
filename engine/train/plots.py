"""Line plots drawn with PIL, for loss curves in reports. PIL is already a dependency;
matplotlib would add tens of megabytes for a few polylines."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engine.atomic import write_atomically

# Colour-blind-safe (Okabe–Ito) palette.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
Series = dict[str, list[tuple[float, float]]]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def line_plot(series: Series, title: str, x_label: str, y_label: str, path: Path,
              size: tuple[int, int] = (720, 420)) -> Path:
    """One line per named series of (x, y) points; log y axis when values span > 100×."""
    width, height = size
    left, right, top, bottom = 70, 20, 34, 64
    font = ImageFont.load_default()
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    points = [(x, y) for values in series.values() for x, y in values if math.isfinite(y)]
    if not points:
        raise ValueError(f"nothing to plot for {title!r}")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    log_y = min(ys) > 0 and max(ys) / min(ys) > 100
    to_y = math.log10 if log_y else (lambda v: v)
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = to_y(min(ys)), to_y(max(ys))
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1

    def px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (width - left - right),
                height - bottom - (to_y(y) - y0) / (y1 - y0) * (height - top - bottom))

    draw.rectangle([left, top, width - right, height - bottom], outline="#888888")
    for tick in _ticks(y0, y1):
        y = height - bottom - (tick - y0) / (y1 - y0) * (height - top - bottom)
        draw.line([left - 4, y, left, y], fill="#888888")
        draw.text((4, y - 6), _fmt(10**tick if log_y else tick), fill="black", font=font)
    for tick in _ticks(x0, x1):
        x = left + (tick - x0) / (x1 - x0) * (width - left - right)
        draw.line([x, height - bottom, x, height - bottom + 4], fill="#888888")
        draw.text((x - 10, height - bottom + 6), _fmt(tick), fill="black", font=font)
    draw.text((left, 10), title, fill="black", font=font)
    draw.text((width // 2 - 20, height - bottom + 22), x_label, fill="black", font=font)
    draw.text((4, top - 16), y_label + (" (log)" if log_y else ""), fill="black", font=font)
    legend_x = left
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        line = [px(x, y) for x, y in values if math.isfinite(y)]
        if len(line) > 1:
            draw.line(line, fill=colour, width=2)
        elif line:
            draw.ellipse([line[0][0] - 2, line[0][1] - 2, line[0][0] + 2, line[0][1] + 2], fill=colour)
        draw.line([legend_x, height - 14, legend_x + 16, height - 14], fill=colour, width=3)
        draw.text((legend_x + 20, height - 20), name, fill="black", font=font)
        legend_x += 28 + int(draw.textlength(name, font=font))
    write_atomically(path, lambda tmp: img.save(tmp, format="PNG"))
    return path
