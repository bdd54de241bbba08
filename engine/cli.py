"""``styler <subcommand>``: the headless command line. Never imports Qt.

Each subcommand lives in ``engine/commands/<name>.py`` with ``register(subparsers)``;
errors meant for the user are ``StylerError`` and print as one line (``--debug`` shows the
traceback)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine import __version__
from engine.errors import Remedy, StylerError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


# What to do about an engine error, in command-line terms (the app has its own wording).
CLI_REMEDIES: dict[Remedy, str] = {
    "smaller_image": "use a smaller --max-size or another --device",
    "smaller_style": "use a smaller --style-size or another --device",
    "other_device": "use --device cpu or auto",
    "other_segmenter": "download it again with `styler models download clipseg` or pass another --segmenter",
}

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="styler",
        description=(
            "Text-prompted semantic style transfer. Without a subcommand, opens the Styler "
            "window; with one, runs headless."
        ),
    )
    parser.add_argument("--version", action="version", version=f"styler {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND")
    from engine.commands import COMMANDS  # imports torch: seconds, so inside main's Ctrl-C guard

    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except KeyboardInterrupt:  # Ctrl-C while torch loads: no traceback for that
        print("styler: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.run(args) or EXIT_OK)
    except StylerError as exc:
        if args.debug:
            raise
        print(f"styler: error: {exc.worded(CLI_REMEDIES)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("styler: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # unexpected: still one line unless --debug
        if args.debug:
            raise
        print(
            f"styler: internal error: {type(exc).__name__}: {exc} (run again with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
