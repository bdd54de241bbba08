"""``styler models …``: get, convert and manage model weights.

Listing and managing models needs no torch; downloading, importing and converting load it
inside their functions (see tests/test_cli_startup.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.errors import StylerError
from engine.models.folder import models_dir
from engine.models.registry import human_size, registry
from engine.models.store import (
    InstalledModel,
    default_style_model,
    get_installed,
    installed_models,
    remove_model,
    set_default_model,
    verify_models,
)
from engine.user_settings import MODELS_DIR, set_setting


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("models", help="install, import and manage model weights")
    sub = p.add_subparsers(title="model commands", metavar="COMMAND")

    ls = sub.add_parser("list", help="installed models (sizes, the default) and what can be downloaded")
    ls.set_defaults(run=run_list)

    dl = sub.add_parser("download", help="download a model from its official source and install it")
    dl.add_argument("name", metavar="NAME", help=f"one of: {', '.join(registry())}")
    dl.add_argument("--force", action="store_true", help="download again even if installed")
    dl.set_defaults(run=run_download)

    imp = sub.add_parser(
        "import",
        help="install a model from disk: a Styler .safetensors, the AdaAttN release (.zip or "
        "folder), a CLIPSeg folder, torchvision VGG-19 weights (.pth)",
    )
    imp.add_argument("path", type=Path, metavar="PATH")
    imp.add_argument("--name", help="install under this name (style models; default: from the file)")
    imp.add_argument("--encoder", type=Path, metavar="PATH",
                     help="vgg_normalised.pth for the AdaAttN release (default: found beside it)")
    imp.set_defaults(run=run_import)

    rm = sub.add_parser("remove", help="delete an installed model")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(run=run_remove)

    ver = sub.add_parser("verify", help="re-hash installed files against the recorded SHA-256")
    ver.set_defaults(run=run_verify)

    de = sub.add_parser("default", help="show or set the style model used without --model")
    de.add_argument("name", nargs="?", metavar="NAME")
    de.set_defaults(run=run_default)

    fo = sub.add_parser("folder", help="show or change the folder models are installed in")
    fo.add_argument("path", nargs="?", type=Path, metavar="PATH")
    fo.add_argument("--reset", action="store_true", help="go back to the standard folder")
    fo.set_defaults(run=run_folder)

    old = sub.add_parser(
        "import-adaattn",
        help="convert the AdaAttN release (latest_net_*.pth + vgg_normalised.pth) to a Styler model file",
    )
    old.add_argument("folder", type=Path, metavar="DIR", help="folder with latest_net_*.pth")
    old.add_argument("--encoder", type=Path, metavar="PATH",
                     help="vgg_normalised.pth (default: found in DIR or its parent)")
    old.add_argument("-o", "--output", type=Path, required=True, metavar="MODEL",
                     help="the .safetensors file to write")
    old.set_defaults(run=run_import_adaattn)

    def show_help(args: argparse.Namespace) -> int:  # `styler models` alone: list the subcommands
        p.print_help()
        return 2

    p.set_defaults(run=show_help)


def run_list(args: argparse.Namespace) -> int:
    print(f"model folder: {models_dir()}")
    models = installed_models()
    default = default_style_model()
    if models:
        width = max(len(m.name) for m in models)
        for m in models:
            mark = "*" if m.name == default else " "
            print(f"{mark} {m.name:<{width}}  {m.kind:<9}  {human_size(m.size):>9}  {m.origin}")
        print("(* = default style model)")
    else:
        print("no models installed")
    available = [e for e in registry().values() if get_installed(e.name) is None]
    if available:
        print("available to download (`styler models download NAME`):")
        for e in available:
            print(f"  {e.name:<15} {e.title}: about {human_size(e.download_size)} to download, "
                  f"{human_size(e.installed_size)} on disk; licence: {e.license}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    entry = registry().get(args.name)
    if entry is None:
        raise StylerError(f"unknown model {args.name!r}; Styler can download: {', '.join(registry())}")
    if get_installed(args.name) is not None and not args.force:
        print(f"{args.name} is already installed (use --force to download it again)")
        return 0
    from tqdm import tqdm

    from engine.models.install import install

    print(f"downloading {entry.title}, about {human_size(entry.download_size)}; licence: {entry.license}")
    # delay: no empty bar when the download fails at once (offline, proxy).
    with tqdm(unit="B", unit_scale=True, unit_divisor=1000, desc=args.name, delay=0.5) as bar:

        def progress(done: int, total: int | None, rate: float) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        model = install(args.name, progress=progress, force=args.force)
    _print_installed(model)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from engine.models.install import import_path

    model = import_path(args.path, name=args.name, encoder=args.encoder)
    _print_installed(model)
    return 0


def _print_installed(model: InstalledModel) -> None:
    note = " (the default style model)" if default_style_model() == model.name else ""
    print(f"installed {model.name}: {model.path} ({human_size(model.size)}){note}")


def run_remove(args: argparse.Namespace) -> int:
    model = remove_model(args.name)
    print(f"removed {model.name} ({model.path})")
    new_default = default_style_model()
    if model.kind == "style":
        print(f"default style model: {new_default or 'none'}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    results = verify_models()
    if not results:
        print("no models installed")
        return 0
    for r in results:
        print(f"{r.name}: ok" if r.ok else f"{r.name}: FAILED: {'; '.join(r.problems)}")
    bad = [r.name for r in results if not r.ok]
    if bad:
        print(f"re-install {', '.join(bad)} (`styler models remove NAME`, then download or import again)")
        return 1
    return 0


def run_default(args: argparse.Namespace) -> int:
    if args.name:
        set_default_model(args.name)
    print(f"default style model: {default_style_model() or 'none'}")
    return 0


def run_folder(args: argparse.Namespace) -> int:
    if args.reset or args.path:
        old = models_dir()
        set_setting(MODELS_DIR, None if args.reset else str(args.path.expanduser().resolve()))
        if models_dir() != old:
            print(f"models already in {old} stay there; move them or import them again")
    print(f"model folder: {models_dir()}")
    return 0


def run_import_adaattn(args: argparse.Namespace) -> int:
    from engine.checkpoint import import_release

    written = import_release(args.folder, args.output, args.encoder)
    print(f"imported AdaAttN release from {args.folder} -> {written}")
    return 0
