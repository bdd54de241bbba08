"""``styler models …``: get, convert and manage model weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.checkpoint import import_release


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="install, import and manage model weights")
    sub = p.add_subparsers(title="model commands", metavar="COMMAND")

    imp = sub.add_parser(
        "import-adaattn",
        help="convert the AdaAttN release (latest_net_*.pth + vgg_normalised.pth) to a Styler model",
    )
    imp.add_argument("folder", type=Path, metavar="DIR", help="folder with latest_net_*.pth")
    imp.add_argument("--encoder", type=Path, metavar="PATH",
                     help="vgg_normalised.pth (default: found in DIR or its parent)")
    imp.add_argument("-o", "--output", type=Path, required=True, metavar="MODEL",
                     help="the .safetensors file to write")
    imp.set_defaults(run=run_import_adaattn)
    p.set_defaults(run=lambda args: (p.print_help(), 2)[1])


def run_import_adaattn(args: argparse.Namespace) -> int:
    written = import_release(args.folder, args.output, args.encoder)
    print(f"imported AdaAttN release from {args.folder} -> {written}")
    return 0
