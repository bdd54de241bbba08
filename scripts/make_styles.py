"""Regenerate the sample styles in ``engine/resources/styles/``: procedural "paintings".

There is no network here to fetch public-domain paintings, so the samples are drawn:
brush strokes following a flow field, swirls, a stained-glass mosaic, cubist shards and
pointillist dots. Each is deterministic (fixed seed) and saved as a palette PNG (small).

    python scripts/make_styles.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 512
OUT = Path(__file__).resolve().parent.parent / "engine" / "resources" / "styles"

PALETTES = {
    "sunset": [(38, 20, 71), (142, 45, 86), (232, 93, 74), (248, 180, 90), (253, 236, 166)],
    "ocean": [(8, 29, 56), (20, 77, 120), (54, 139, 170), (141, 201, 196), (240, 232, 205)],
    "forest": [(24, 38, 26), (52, 88, 48), (120, 140, 60), (206, 184, 98), (236, 222, 180)],
    "ember": [(20, 14, 12), (96, 24, 18), (190, 64, 26), (236, 150, 40), (250, 220, 120)],
    "glass": [(22, 30, 90), (180, 30, 50), (240, 190, 40), (30, 120, 80), (230, 230, 220)],
    "ochre": [(60, 40, 30), (150, 90, 50), (210, 160, 90), (90, 110, 120), (230, 210, 170)],
}


def _pick(rng: np.random.Generator, palette: list[tuple[int, int, int]], jitter: int = 18) -> tuple[int, ...]:
    base = np.array(palette[rng.integers(len(palette))])
    return tuple(int(v) for v in np.clip(base + rng.integers(-jitter, jitter + 1, 3), 0, 255))


def _flow_angle(x: float, y: float, kind: str) -> float:
    u, v = x / SIZE, y / SIZE
    if kind == "swirl":  # concentric vortices around two centres
        a = math.atan2(v - 0.35, u - 0.3) + math.pi / 2
        b = math.atan2(v - 0.7, u - 0.72) - math.pi / 2
        w = math.exp(-((u - 0.3) ** 2 + (v - 0.35) ** 2) * 6)
        return w * a + (1 - w) * b
    return math.sin(u * 6.0) * 1.2 + math.cos(v * 5.0) * 0.8  # gentle waves


def brush_strokes(name: str, palette: str, kind: str, seed: int, strokes: int = 2600) -> Image.Image:
    rng = np.random.default_rng(seed)
    colours = PALETTES[palette]
    img = Image.new("RGB", (SIZE, SIZE), colours[len(colours) // 2])
    draw = ImageDraw.Draw(img)
    for i in range(strokes):
        width = int(14 - 10 * i / strokes) + 2  # broad underpainting first, fine strokes last
        x, y = rng.uniform(0, SIZE, 2)
        colour = _pick(rng, colours)
        points = [(x, y)]
        for _ in range(int(rng.integers(4, 10))):
            angle = _flow_angle(x, y, kind)
            x += math.cos(angle) * width * 0.9
            y += math.sin(angle) * width * 0.9
            points.append((x, y))
        draw.line(points, fill=colour, width=width, joint="curve")
    return img.filter(ImageFilter.SMOOTH_MORE)


def mosaic(name: str, palette: str, seed: int, cells: int = 180) -> Image.Image:
    """Stained glass: Voronoi cells with dark leading between them."""
    rng = np.random.default_rng(seed)
    colours = PALETTES[palette]
    centres = rng.uniform(0, SIZE, (cells, 2))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    d = (xx[..., None] - centres[:, 0]) ** 2 + (yy[..., None] - centres[:, 1]) ** 2  # (H, W, cells)
    order = np.argsort(d, axis=2)[..., :2]
    nearest, second = np.take_along_axis(d, order, 2).transpose(2, 0, 1)
    table = np.array([_pick(rng, colours, 30) for _ in range(cells)], dtype=np.float32)
    rgb = table[order[..., 0]]
    shade = 0.85 + 0.15 * np.sin(xx / 23.0 + yy / 31.0)[..., None]  # uneven glass
    edge = (np.sqrt(second) - np.sqrt(nearest)) < 3.0
    rgb = rgb * shade
    rgb[edge] = (18, 16, 20)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def shards(name: str, palette: str, seed: int, count: int = 90) -> Image.Image:
    """Cubist planes: overlapping translucent polygons with hard edges."""
    rng = np.random.default_rng(seed)
    colours = PALETTES[palette]
    img = Image.new("RGB", (SIZE, SIZE), colours[0])
    for _ in range(count):
        layer = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
        cx, cy = rng.uniform(-40, SIZE + 40, 2)
        radius = rng.uniform(40, 190)
        angles = np.sort(rng.uniform(0, 2 * math.pi, int(rng.integers(3, 6))))
        polygon = [(cx + radius * math.cos(a), cy + radius * math.sin(a)) for a in angles]
        ImageDraw.Draw(layer).polygon(polygon, fill=(*_pick(rng, colours, 25), int(rng.integers(110, 220))))
        img.paste(layer, (0, 0), layer)
    edges = img.filter(ImageFilter.FIND_EDGES).convert("L").point(lambda v: 255 if v > 40 else 0)
    dark = Image.new("RGB", img.size, (25, 20, 18))
    return Image.composite(dark, img, edges.filter(ImageFilter.MaxFilter(3)))


def pointillism(name: str, palette: str, seed: int, dots: int = 16000) -> Image.Image:
    rng = np.random.default_rng(seed)
    colours = PALETTES[palette]
    img = Image.new("RGB", (SIZE, SIZE), (236, 230, 214))
    draw = ImageDraw.Draw(img)
    for _ in range(dots):
        x, y = rng.uniform(0, SIZE, 2)
        band = int(np.clip((y / SIZE + 0.15 * math.sin(x / 40)) * len(colours), 0, len(colours) - 1))
        colour = _pick(rng, [colours[band], colours[min(band + 1, len(colours) - 1)]], 30)
        r = rng.uniform(2, 5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return img


STYLES = {
    "brush-sunset": lambda: brush_strokes("brush-sunset", "sunset", "waves", 1),
    "swirl-night": lambda: brush_strokes("swirl-night", "ocean", "swirl", 2),
    "swirl-ember": lambda: brush_strokes("swirl-ember", "ember", "swirl", 3),
    "brush-forest": lambda: brush_strokes("brush-forest", "forest", "waves", 4),
    "mosaic-glass": lambda: mosaic("mosaic-glass", "glass", 5),
    "cubist-ochre": lambda: shards("cubist-ochre", "ochre", 6),
    "pointillist-sea": lambda: pointillism("pointillist-sea", "ocean", 7),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in STYLES.items():
        image = make().quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(OUT / f"{name}.png", optimize=True)
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
