"""Console entry point ``styler``: no subcommand opens the window, anything else runs the
headless CLI without importing Qt."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from styler_app.app import run_gui

        return run_gui()
    from engine.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
