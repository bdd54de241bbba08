"""Console entry point ``styler``: no arguments opens the window, photos or folders open the
window with them, a subcommand runs the headless CLI without importing Qt."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from styler_app.launch import LaunchError, decide

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        launch = decide(args)
    except LaunchError as exc:
        print(f"styler: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if launch.gui:
        from styler_app.app import run_gui

        return run_gui(list(launch.paths))
    from engine.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
