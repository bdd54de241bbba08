"""A side-by-side sheet: each photo, CLIPSeg's region (``--refine none``) and SAM 2's
(``--refine sam``) for the same prompt, to judge the refiner with real weights.

    python scripts/refine_sheet.py [-o refine_sheet.png] [--photos DIR] [--prompt FILE=TEXT ...]
        [--segmenter PATH] [--refiner-model PATH] [--device auto] [--width 480]

Defaults: the photos in ../shared/photos/photos with a prompt for each one known below,
and the installed CLIPSeg and SAM 2 (``styler models download clipseg sam2``). The masks
are made by the same engine call `styler segment` uses, at each photo's full size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.atomic import write_atomically  # noqa: E402
from engine.errors import StylerError  # noqa: E402
from engine.image_io import IMAGE_SUFFIXES, load_image, to_uint8  # noqa: E402
from engine.models.store import resolve_refiner, resolve_segmenter  # noqa: E402
from engine.options import RenderOptions  # noqa: E402
from engine.pipeline import region_mask_for  # noqa: E402
from engine.refiner import load_refiner  # noqa: E402
from engine.segment import load_segmenter  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "photos" / "photos"
PROMPTS = {
    "bedroom_hotel": "the bed", "living_room": "the sofa", "clinic_waiting_room": "the chairs",
    "two_people_office": "a person", "venue_sky": "the sky", "dog_camera_trap": "the dog",
    "person_forest_camera_trap": "a person", "portrait_bedouin_woman": "the woman",
    "astronaut": "the astronaut", "cat_chelsea": "the cat", "coffee": "the cup",
}
LABEL_HEIGHT = 22


def overlay(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photo darkened outside the mask and tinted red inside, so both edges show."""
    m = mask[..., None]
    shaded = rgb * (0.3 + 0.7 * m)
    return shaded * (1 - 0.3 * m) + 0.3 * m * np.array([1.0, 0.0, 0.0], np.float32)


def panel(rgb: np.ndarray, width: int, label: str) -> Image.Image:
    image = Image.fromarray(to_uint8(np.clip(rgb, 0, 1)))
    image = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
    out = Image.new("RGB", (width, image.height + LABEL_HEIGHT), "white")
    out.paste(image, (0, LABEL_HEIGHT))
    ImageDraw.Draw(out).text((4, 4), label, fill="black")
    return out


def sheet_rows(photos: list[tuple[Path, str]], args: argparse.Namespace) -> list[list[Image.Image]]:
    segmenter = load_segmenter(resolve_segmenter(args.segmenter), args.device)
    refiner = load_refiner(resolve_refiner(args.refiner_model), args.device)
    rows = []
    for path, prompt in photos:
        rgb = load_image(path).rgb
        plain = region_mask_for(segmenter, rgb, RenderOptions(prompts=(prompt,)))
        refined = region_mask_for(segmenter, rgb, RenderOptions(prompts=(prompt,), refiner="sam"), refiner=refiner)
        print(f"{path.name}: '{prompt}': CLIPSeg {100 * plain.mean():.1f}%, SAM 2 {100 * refined.mean():.1f}%")
        rows.append([
            panel(rgb, args.width, f"{path.name}: \"{prompt}\""),
            panel(overlay(rgb, plain), args.width, "CLIPSeg (--refine none)"),
            panel(overlay(rgb, refined), args.width, "SAM 2 (--refine sam)"),
        ])
    return rows


def write_sheet(rows: list[list[Image.Image]], output: Path) -> None:
    width = sum(p.width for p in rows[0])
    sheet = Image.new("RGB", (width, sum(max(p.height for p in row) for row in rows)), "white")
    y = 0
    for row in rows:
        x = 0
        for p in row:
            sheet.paste(p, (x, y))
            x += p.width
        y += max(p.height for p in row)
    write_atomically(output, lambda tmp: sheet.save(tmp, format="PNG"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, default=Path("refine_sheet.png"))
    parser.add_argument("--photos", type=Path, default=PHOTOS, help=f"folder of photos (default {PHOTOS})")
    parser.add_argument("--prompt", action="append", default=[], metavar="FILE=TEXT",
                        help="prompt for a photo (file name or stem); photos without one are skipped "
                        "unless they are among the known ones")
    parser.add_argument("--segmenter", help="CLIPSeg folder (default: the installed one)")
    parser.add_argument("--refiner-model", help="SAM 2 folder (default: the installed one)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--width", type=int, default=480, help="width of each panel in pixels")
    args = parser.parse_args(argv)
    prompts = dict(PROMPTS)
    for item in args.prompt:
        name, _, text = item.partition("=")
        prompts[Path(name).stem] = text
    if not args.photos.is_dir():
        parser.error(f"{args.photos}: no such folder of photos")
    photos = [(p, prompts[p.stem]) for p in sorted(args.photos.iterdir())
              if p.suffix.lower() in IMAGE_SUFFIXES and p.stem in prompts]
    if not photos:
        parser.error(f"{args.photos}: no photo with a prompt; pass --prompt FILE=TEXT")
    try:
        write_sheet(sheet_rows(photos, args), args.output)
    except StylerError as exc:
        print(f"refine_sheet: error: {exc}", file=sys.stderr)
        return 1
    print(f"-> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
