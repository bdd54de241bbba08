"""``styler segment IMAGE --prompt TEXT -o mask.png``: only the mask, for use elsewhere or
to check what a prompt selects before stylising."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.commands._option_types import non_negative_float, positive_int
from engine.commands.stylize import add_point_option, add_prompt_options, check_points, chosen_refiner
from engine.errors import StylerError
from engine.options import RenderOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "segment",
        help="write the mask a text prompt selects (no stylisation)",
        description="Find what --prompt names in IMAGE with CLIPSeg and write it as an 8-bit "
        "greyscale mask (white = selected), the same mask `styler stylize --prompt` uses.",
    )
    p.add_argument("image", type=Path, metavar="IMAGE", help="the photo")
    p.add_argument("-o", "--output", type=Path, metavar="MASK",
                   help="mask file to write (default: <stem>.mask.png next to IMAGE)")
    p.add_argument("--max-size", type=positive_int, metavar="N",
                   help="cap the photo's longer side at N pixels first, as stylize does")
    add_prompt_options(p)
    add_point_option(p)
    p.add_argument("--soft", action="store_true", help="grey levels follow CLIPSeg's confidence")
    p.add_argument("--feather", type=non_negative_float, default=RenderOptions.feather, metavar="PX",
                   help=f"soften the edge over ±PX pixels (default {RenderOptions.feather:g})")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing mask file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.image_io import format_for, load_image
    from engine.masks import save_mask
    from engine.models.store import resolve_refiner, resolve_segmenter
    from engine.pipeline import region_mask_for
    from engine.refiner import load_refiner
    from engine.segment import load_segmenter
    from engine.targets import refuse_input_targets

    if not args.prompt and not args.negative and not args.point:
        raise StylerError("segment needs at least one --prompt, --negative or --point")
    output: Path = args.output or args.image.with_name(f"{args.image.stem}.mask.png")
    if format_for(output) != "PNG":
        raise StylerError(f"{output}: masks are written as PNG; use a .png name")
    refuse_input_targets([output], [("photo", args.image)])
    if output.exists() and not args.overwrite:
        raise StylerError(f"{output}: already exists; pass --overwrite to replace it")
    options = RenderOptions(
        prompts=tuple(args.prompt), negatives=tuple(args.negative), invert=args.invert,
        threshold=args.threshold, soft=args.soft, feather=args.feather, grow=args.grow,
        min_area=args.min_area, refine=args.refine, refiner=chosen_refiner(args), points=tuple(args.point),
    )
    check_points(args.point, options.refiner)
    image = load_image(args.image, args.max_size)  # decoded reduced; clicks are in the file's pixels
    options = options.scaled_points(image.size[0] / image.photo_size[0], image.size[1] / image.photo_size[1])
    refiner = load_refiner(resolve_refiner(args.refiner_model), args.device) if options.refiner == "sam" else None
    # CLIPSeg is loaded only if there is text to find (clicks alone need SAM 2 only).
    mask = region_mask_for(
        lambda: load_segmenter(resolve_segmenter(args.segmenter), args.device), image.rgb, options,
        image.key, refiner=refiner
    )
    save_mask(output, mask)
    if not mask.any():
        print(f"styler: prompt matched nothing in {args.image}", file=sys.stderr)
    print(f"{args.image} -> {output} ({100.0 * float(mask.mean()):.1f}% selected)")
    return 0
