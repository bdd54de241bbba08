"""``styler batch IN_DIR --style STYLE -o OUT_DIR``: stylise a whole folder, resumably.

Exit status: 0 all done, 3 some files failed or the disk filled up, 2 usage error,
130 interrupted."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from engine.commands.stylize import STYLE_HELP, add_render_options, make_pipeline, render_options, style_path
from engine.errors import StylerError
from engine.options import DEFAULT_NAME, OUTPUT_FORMATS

if TYPE_CHECKING:  # engine.batch loads torch: imported where a batch runs, not for --help
    from engine.batch import BatchPlan, Shard

EXIT_OK, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 2, 3, 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "batch",
        help="stylise every photo in a folder (resumable)",
        description=(
            "Stylise every image in IN_DIR into OUT_DIR with one style, mirroring sub-folders. "
            "OUT_DIR/styler-manifest.jsonl records each file; running the same command again "
            "skips what is done. Under torchrun the files are shared among the ranks. "
            "Exit status: 0 all done, 3 some files failed, 2 usage error, 130 interrupted."
        ),
    )
    p.add_argument("in_dir", type=Path, metavar="IN_DIR", help="folder of photos")
    p.add_argument("--style", required=True, type=style_path, help=STYLE_HELP)
    p.add_argument("--model", help="model file or installed model name (default: the default model)")
    p.add_argument("-o", "--output", dest="out_dir", required=True, type=Path, metavar="OUT_DIR",
                   help="folder for the results (created if missing)")
    p.add_argument("--recursive", "-r", action="store_true", help="include sub-folders (mirrored in OUT_DIR)")
    p.add_argument("--name", default=DEFAULT_NAME, metavar="TEMPLATE",
                   help="output file name from {stem} {ext} {style} {prompt} {index} "
                   f"(e.g. '{{stem}}_{{style}}{{ext}}', '{{index:05d}}{{ext}}'; default '{DEFAULT_NAME}')")
    p.add_argument("--format", dest="fmt", default="keep", choices=OUTPUT_FORMATS,
                   help="output format; keep = the input's own (default)")
    p.add_argument("--overwrite", action="store_true",
                   help="render everything again, replacing existing outputs")
    p.add_argument("--include-output-folders", action="store_true",
                   help="with --recursive, also stylise sub-folders that hold an earlier batch's "
                   "results (a styler-manifest.jsonl); they are skipped by default")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress display or summary")
    add_render_options(p)
    p.set_defaults(run=run)


def _plan(args: argparse.Namespace, lock_folder: ExitStack | None) -> BatchPlan | str:
    """The plan, or the usage error's text (so rank 0 can hand either to every rank).
    ``lock_folder`` (a sharded run's rank 0) takes OUT_DIR's batch lock for the whole run."""
    from engine.batch import plan_batch
    from engine.batch.lock import output_folder_lock
    from engine.models.store import resolve_style_model

    try:
        options = render_options(args)
        model = resolve_style_model(args.model)
        plan = plan_batch(
            args.in_dir, args.out_dir, args.style, recursive=args.recursive, name=args.name,
            fmt=args.fmt, prompts=options.prompts, invert=options.invert, save_mask=options.save_mask,
            protected=[("model", model)], include_output_folders=args.include_output_folders,
        )
        if lock_folder is not None:
            lock_folder.enter_context(output_folder_lock(plan.out_dir))
        return plan
    except StylerError as exc:  # all of them are about the command line as given
        return str(exc)


def run(args: argparse.Namespace) -> int:
    from engine.batch import BatchUsageError, Shard

    try:
        shard = Shard.from_env()
    except BatchUsageError as exc:
        return _usage(str(exc))
    shard.join()
    try:
        with ExitStack() as lock:
            return _run(args, shard, lock if shard.world_size > 1 and shard.rank == 0 else None)
    finally:
        shard.leave()


def _run(args: argparse.Namespace, shard: Shard, lock_folder: ExitStack | None) -> int:
    from engine.batch import BatchPlan, BatchSummary, BatchUsageError, merge_parts, run_batch
    from engine.batch.console import ConsoleProgress, stop_on_signals, summary_line

    planned = shard.from_rank0(_plan(args, lock_folder) if shard.rank == 0 else None)
    if isinstance(planned, str):
        return _usage(planned)
    assert isinstance(planned, BatchPlan)  # rank 0 sends a plan or a message
    plan = planned.shard(shard.rank, shard.world_size)
    # Only rank 0 talks; the others would draw over its progress bar.
    quiet = args.quiet or shard.rank != 0
    if plan.ignored and not quiet:
        print(f"styler: ignoring {len(plan.ignored)} entries that are not image files (other "
              f"suffixes, pipes, broken links, links to folders), e.g. {plan.ignored[0]}", file=sys.stderr)
    if plan.output_folders and not quiet:
        print(f"styler: skipping {len(plan.output_folders)} folder(s) holding an earlier batch's results, "
              f"e.g. {plan.output_folders[0]} (--include-output-folders stylises them too)", file=sys.stderr)
    args.device = shard.device(args.device)
    pipeline = make_pipeline(args)
    options = render_options(args)
    display = ConsoleProgress(len(plan.items), quiet=quiet)
    try:
        with stop_on_signals() as stop:
            summary = run_batch(plan, pipeline, options, overwrite=args.overwrite,
                                progress=display, cancel=stop.is_set)
    except BatchUsageError as exc:
        return _usage(str(exc))
    finally:
        display.close()

    total = BatchSummary()
    for part in shard.gather(summary):
        total = total.combine(part)
    if shard.rank == 0:
        if total.stopped:
            print(f"styler: error: {total.stopped}", file=sys.stderr)
        merge_parts(plan.out_dir)
        if not args.quiet:
            print(summary_line(total))
    if total.stopped:
        return EXIT_FAILED
    if total.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if total.failed else EXIT_OK


def _usage(message: str) -> int:
    print(f"styler: error: {message}", file=sys.stderr)
    return EXIT_USAGE
