"""``styler stylize CONTENT... --style STYLE``: stylise photos one by one.

Start-up: only argparse and torch-free modules are imported at the top; torch and the
engine load inside the functions that need them, so ``--help`` and usage errors are
instant (tests/test_cli_startup.py holds that boundary)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.commands._option_types import (
    MAX_SEED,
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_int,
    prompt_text,
    seed_number,
    unit_float,
)
from engine.errors import StylerError
from engine.options import (
    DEFAULT_STYLE_REDUCTION,
    DEFAULT_STYLE_SIZE,
    REFINERS,
    RELEASE_SEED,
    STYLE_REDUCTIONS,
    Click,
    RenderOptions,
)

if TYPE_CHECKING:  # these load torch: imported where a render runs, not for --help
    from engine.pipeline import Pipeline
    from engine.stylizer import Stylizer
    from engine.targets import NamedInput


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "stylize",
        help="repaint photos in the style of an image",
        description="Repaint CONTENT images in the style of STYLE with AdaAttN.",
    )
    p.add_argument("content", nargs="+", type=Path, metavar="CONTENT", help="photo(s) to stylise")
    p.add_argument("--style", required=True, type=style_path, help=STYLE_HELP)
    p.add_argument("--model", help="model file or installed model name (default: the default model)")
    p.add_argument(
        "-o", "--output", type=Path,
        help="output file for one input, output folder for several "
        "(default: <stem>.styled.<ext> next to each input)",
    )
    add_render_options(p)
    add_point_option(p)
    p.add_argument("--mask", type=Path, metavar="FILE",
                   help="stylise what this image paints white (a mask made elsewhere, e.g. by --save-mask; "
                   "the photo's size or aspect ratio), instead of --prompt")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(run=run)


def add_render_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that renders (stylize, batch)."""
    p.add_argument("--max-size", type=positive_int, metavar="N",
                   help="cap the content's longer side at N pixels (default: original size)")
    p.add_argument("--style-size", type=non_negative_int, default=DEFAULT_STYLE_SIZE, metavar="N",
                   help=f"style image's longer side in pixels (default {DEFAULT_STYLE_SIZE}; 0 keeps it)")
    p.add_argument("--strength", type=unit_float, default=RenderOptions.strength, metavar="A",
                   help="how much style: 0 = content, 1 = full style (default 1)")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"),
                   help="compute precision (default auto = fp32)")
    p.add_argument("--style-attention", choices=STYLE_REDUCTIONS, default=DEFAULT_STYLE_REDUCTION,
                   help="release (default): above 4096 style positions (65536 at the deeper "
                   "levels) a level attends to the released code's random subset, drawn with "
                   f"the authors' seed {RELEASE_SEED} unless --seed picks another: their code's "
                   "pixels; pooled: 2×2 or larger cells of the style; exact: every position "
                   "(slower at large style sizes)")
    p.add_argument("--seed", type=seed_number, default=None, help=f"seed for anything random (0 to {MAX_SEED})")
    add_region_options(p)


def add_region_options(p: argparse.ArgumentParser) -> None:
    """Text-prompted regions (CLIPSeg); without --prompt/--negative the whole photo is styled."""
    g = p.add_argument_group("regions", "stylise only what a text prompt names (see docs/regions.md)")
    add_prompt_options(g)
    g.add_argument("--soft", action="store_true",
                   help="inside the region, blend by CLIPSeg's confidence instead of fully")
    g.add_argument("--feather", type=non_negative_float, default=RenderOptions.feather, metavar="PX",
                   help=f"soften the region's edge over ±PX output pixels (default {RenderOptions.feather:g})")
    g.add_argument("--no-crop", dest="crop", action="store_false",
                   help="stylise the whole photo even for a small region (slower)")
    g.add_argument("--save-mask", action="store_true",
                   help="also write the mask as <output stem>.mask.png (8-bit grey)")


def add_prompt_options(g: argparse._ActionsContainer) -> None:
    """The options that decide a mask's region: shared with ``styler segment``."""
    g.add_argument("--prompt", action="append", type=prompt_text, default=[], metavar="TEXT",
                   help="what to stylise, e.g. \"the bed\"; repeat for several (their union)")
    g.add_argument("--negative", action="append", type=prompt_text, default=[], metavar="TEXT",
                   help="what to leave out of the region; repeatable")
    g.add_argument("--invert", action="store_true", help="stylise everything except the region")
    g.add_argument("--threshold", type=unit_float, default=RenderOptions.threshold, metavar="T",
                   help=f"CLIPSeg probability that counts as inside (default {RenderOptions.threshold:g})")
    g.add_argument("--grow", type=finite_float, default=RenderOptions.grow, metavar="PX",
                   help="grow the region by PX pixels; negative shrinks it (default 0)")
    g.add_argument("--min-area", type=unit_float, default=RenderOptions.min_area, metavar="F",
                   help="drop islands and fill holes smaller than this fraction of the image "
                   f"(default {RenderOptions.min_area:g}; 0 keeps them)")
    g.add_argument("--no-refine", dest="refine", action="store_false",
                   help="do not snap the mask's edges to the photo's edges")
    g.add_argument("--segmenter", metavar="PATH",
                   help="local CLIPSeg model folder (default: the installed one)")
    g.add_argument("--refine", dest="refiner", choices=REFINERS, default=None,
                   help="outline the region with SAM 2 (sam) or keep CLIPSeg's map (none); "
                   "default: sam when SAM 2 is installed")
    g.add_argument("--refiner-model", metavar="PATH",
                   help="local SAM 2 model folder (default: the installed one)")


def add_point_option(p: argparse.ArgumentParser) -> None:
    """Clicks, for one photo at a time (stylize, segment): their coordinates are its pixels."""
    p.add_argument("--point", action="append", default=[], type=parse_point, metavar="X,Y",
                   help="add the object at pixel X,Y of the photo (SAM 2); -X,Y removes the "
                   "object there; repeatable")
    # argparse takes "-60,5" for an option (only "-60" or "-.5" count as numbers); widen its
    # notion of a negative number so `--point -60,5` reads as written in the docs.
    p._negative_number_matcher = _NEGATIVE_NUMBER_OR_POINT


_NEGATIVE_NUMBER_OR_POINT = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d*\.?\d+,\d*\.?\d+$")


def parse_point(text: str) -> Click:
    """``X,Y`` (add) or ``-X,Y`` (remove), X and Y in the photo's pixels."""
    positive = not text.startswith("-")
    parts = text.lstrip("-").split(",")
    try:
        x, y = (float(v) for v in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y or -X,Y in pixels, got {text!r}") from None
    if x < 0 or y < 0:
        raise argparse.ArgumentTypeError(f"pixel coordinates are not negative, got {text!r}")
    return Click(x, y, positive)


STYLE_HELP = "the style image (a painting), or a sample style's name (see `styler styles`)"


def style_path(text: str) -> Path:
    """``--style``: an image file, or the name of a sample style when no such file exists."""
    from engine.resources import sample_style

    path = Path(text)
    return path if path.exists() else (sample_style(text) or path)


def make_stylizer(args: argparse.Namespace, model_path: Path | None = None) -> Stylizer:
    import torch

    from engine.models.store import resolve_style_model
    from engine.stylizer import Stylizer

    if args.seed is not None:
        torch.manual_seed(args.seed)
    return Stylizer.from_file(
        model_path or resolve_style_model(args.model),
        device=args.device,
        precision=args.precision,
        style_size=args.style_size or None,
        style_attention=args.style_attention,
        seed=args.seed,
    )


def rendering_inputs(args: argparse.Namespace, model_path: Path) -> list[NamedInput]:
    """The files a render reads besides the photos, none of which may be written: the
    style, the model and a --mask file."""
    mask = getattr(args, "mask", None)
    return [("style image", args.style), ("model", model_path), *([("mask", mask)] if mask else [])]


def output_paths(inputs: list[Path], output: Path | None, others: Sequence[NamedInput] = ()) -> list[Path]:
    """Where each input's result goes; refuses any plan that would write over an input
    (a content photo or one of ``others``) or in a format Styler cannot write, before any work."""
    from engine.image_io import format_for
    from engine.naming import check_file_name
    from engine.targets import refuse_input_targets

    if output is not None:
        check_file_name(output)  # before stat-ing it: a name that long is an OS error
    if output is None:
        paths = [p.with_name(f"{p.stem}.styled{p.suffix}") for p in inputs]
    elif len(inputs) == 1 and not output.is_dir() and output.suffix:
        paths = [output]
    else:
        if output.exists() and not output.is_dir():
            raise StylerError(f"{output}: exists and is not a folder; -o names a folder for several inputs")
        paths = [output / p.name for p in inputs]
        if len({str(p.resolve()) for p in paths}) < len(paths):
            raise StylerError(f"{output}: two inputs have the same file name; stylise them separately")
    for path in paths:
        format_for(path)  # e.g. an animated GIF's default output: refused now, not after rendering
        check_file_name(path)
    refuse_input_targets(paths, [*(("content image", p) for p in inputs), *others])
    return paths


def make_pipeline(args: argparse.Namespace, model_path: Path | None = None) -> Pipeline:
    """The per-image pipeline every rendering command uses (style set separately). CLIPSeg
    is loaded only when a photo is given a prompt."""
    from engine.models.store import resolve_refiner, resolve_segmenter
    from engine.pipeline import Pipeline
    from engine.refiner import load_refiner
    from engine.segment import load_segmenter

    stylizer = make_stylizer(args, model_path)
    folder = getattr(args, "segmenter", None)
    refiner_folder = getattr(args, "refiner_model", None)
    return Pipeline(
        stylizer,
        segmenter=lambda: load_segmenter(resolve_segmenter(folder), stylizer.device),
        refiner=lambda: load_refiner(resolve_refiner(refiner_folder), stylizer.device),
    )


def chosen_refiner(args: argparse.Namespace) -> str:
    """--refine as given; by default SAM 2 when it is installed (or named), else none."""
    from engine.models.store import refiner_installed

    if args.refiner is not None:
        return args.refiner
    return "sam" if args.refiner_model or refiner_installed() else "none"


def check_points(points: list[Click], refiner: str) -> None:
    from engine.models.store import refiner_installed, resolve_refiner

    if points and refiner != "sam":
        if refiner_installed():
            raise StylerError("--point needs SAM 2; drop --refine none")
        resolve_refiner(None)  # raises the "not installed, here is how to get it" error


def render_options(args: argparse.Namespace) -> RenderOptions:
    options = RenderOptions(
        strength=args.strength,
        preserve_color=args.preserve_color,
        max_size=args.max_size,
        prompts=tuple(args.prompt),
        negatives=tuple(args.negative),
        invert=args.invert,
        threshold=args.threshold,
        soft=args.soft,
        feather=args.feather,
        grow=args.grow,
        min_area=args.min_area,
        refine=args.refine,
        crop=args.crop,
        save_mask=args.save_mask,
        refiner=chosen_refiner(args),
        points=tuple(getattr(args, "point", ())),
    )
    check_points(list(options.points), options.refiner)
    if options.invert and not options.uses_region:
        raise StylerError("--invert needs --prompt or --negative: it inverts a region")
    return options


def run(args: argparse.Namespace) -> int:
    from engine.image_io import load_image
    from engine.masks import load_mask
    from engine.models.store import resolve_style_model
    from engine.naming import mask_path_for
    from engine.targets import refuse_input_targets

    inputs: list[Path] = args.content
    options = render_options(args)
    if args.mask is not None and (options.uses_region or options.invert):
        raise StylerError("--mask replaces --prompt, --negative and --invert: give one or the other")
    model_path = resolve_style_model(args.model)
    protected = rendering_inputs(args, model_path)
    outputs = output_paths(inputs, args.output, protected)
    written = list(outputs)
    if options.save_mask:
        written += [mask_path_for(p) for p in outputs]
        refuse_input_targets(written, [*(("content image", p) for p in inputs), *protected])
    if not args.overwrite:
        existing = [p for p in written if p.exists()]
        if existing:
            raise StylerError(f"{existing[0]}: already exists; pass --overwrite to replace it")
    style = load_image(args.style)
    mask = load_mask(args.mask) if args.mask is not None else None
    pipeline = make_pipeline(args, model_path)
    if options.prompts or options.negatives:
        pipeline.load_segmenter()  # now: a broken folder is one error, not one per photo
    if options.uses_region and options.refiner == "sam":
        pipeline.load_refiner()
    pipeline.set_style(style)
    failures = 0
    for src, dst in zip(inputs, outputs, strict=True):
        try:
            result = pipeline.render_file(src, dst, options, mask=mask)
        except StylerError as exc:
            if len(inputs) == 1:
                raise
            failures += 1
            print(f"styler: error: {exc}", file=sys.stderr)
            continue
        for note in result.notes:
            print(f"styler: {note}", file=sys.stderr)
        print(f"{src} -> {dst}")
    if failures:
        print(f"styler: {failures} of {len(inputs)} image(s) failed", file=sys.stderr)
        return 1
    return 0
