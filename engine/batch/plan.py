"""Which files a batch reads and where each result goes.

A plan is made before any work starts, so every refusal (an output that would land on an
input, two inputs sharing an output, a bad name template) happens up front and costs
nothing. Planning reads the folder once, sorted, so every rank of a sharded run and every
re-run of the same command sees the same list in the same order.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.batch.manifest import MANIFEST_NAME, is_manifest_file, part_path, recorded_outputs
from engine.errors import StylerError
from engine.image_files import is_image_path
from engine.naming import NameTemplateError, check_name_template, mask_path_for, output_name
from engine.options import DEFAULT_NAME, OUTPUT_FORMATS
from engine.targets import InputOverwriteError, NamedInput, refuse_input_targets


class BatchUsageError(StylerError):
    """A batch that must not start as asked; the CLI exits with status 2."""


@dataclass(frozen=True)
class BatchItem:
    index: int  # 1-based place in the whole sorted input list (the {index} field)
    source: Path
    destination: Path
    input_key: str  # source relative to IN_DIR, POSIX: how the manifest names it
    output_key: str  # destination relative to OUT_DIR, POSIX
    mask: Path | None = None  # where --save-mask writes this item's mask
    mask_key: str | None = None  # mask relative to OUT_DIR, POSIX

    @property
    def written(self) -> tuple[Path, ...]:
        return (self.destination,) if self.mask is None else (self.destination, self.mask)


@dataclass(frozen=True)
class BatchPlan:
    in_dir: Path
    out_dir: Path
    style: Path
    items: tuple[BatchItem, ...]
    ignored: tuple[Path, ...] = ()  # not image files (other suffixes, pipes, broken or folder links), left alone
    output_folders: tuple[Path, ...] = ()  # sub-folders with an earlier batch's manifest, not walked
    manifest: Path | None = None  # where this process appends; OUT_DIR/styler-manifest.jsonl

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.out_dir / MANIFEST_NAME

    def shard(self, rank: int, world_size: int) -> BatchPlan:
        """This rank's share (every world_size-th file) writing its own manifest part."""
        if world_size <= 1:
            return self
        return replace(self, items=self.items[rank::world_size], manifest=part_path(self.out_dir, rank))


@dataclass
class _Listing:
    regular: list[Path] = field(default_factory=list)  # regular files (or links to one)
    others: list[Path] = field(default_factory=list)  # links to folders, broken or looping links, pipes, devices
    output_folders: list[Path] = field(default_factory=list)  # sub-folders holding a Styler manifest


def _list_inputs(in_dir: Path, recursive: bool, skip_dir: Path | None, include_output_folders: bool) -> _Listing:
    """Visible entries under in_dir (hidden ones left out). Only regular files are ever
    opened: a named pipe called *.jpg would block its reader forever. Links to files are
    followed; links to folders never are (no loops, nothing outside the tree), and neither
    are skip_dir (an OUT_DIR inside IN_DIR) nor, unless asked, sub-folders holding an earlier
    batch's manifest (its results are not photos to stylise again)."""
    listing = _Listing()
    folders = [in_dir]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    if not recursive or (skip_dir is not None and Path(os.path.realpath(path)) == skip_dir):
                        continue
                    if not include_output_folders and (path / MANIFEST_NAME).is_file():
                        listing.output_folders.append(path)
                    else:
                        folders.append(path)
                    continue
                try:
                    mode = os.stat(path).st_mode  # follows links; raises on a loop or a dangling link
                except OSError:
                    listing.others.append(path)
                    continue
                (listing.regular if stat.S_ISREG(mode) else listing.others).append(path)
    return listing


def plan_batch(
    in_dir: Path,
    out_dir: Path,
    style: Path,
    *,
    recursive: bool = False,
    name: str = DEFAULT_NAME,
    fmt: str = "keep",
    prompts: Iterable[str] = (),
    invert: bool = False,
    save_mask: bool = False,
    protected: Iterable[NamedInput] = (),
    include_output_folders: bool = False,
) -> BatchPlan:
    """List IN_DIR's images and their outputs under OUT_DIR; refuses (BatchUsageError) any
    plan that could write over an input (a photo, the style, or any of ``protected``, e.g. the
    model) or write two inputs to one file. ``prompts`` and ``invert`` only name files
    ({prompt}); ``save_mask`` plans a mask beside each output."""
    in_dir, out_dir, style = Path(in_dir), Path(out_dir), Path(style)
    if not in_dir.is_dir():
        raise BatchUsageError(f"{in_dir}: {'is not a folder' if in_dir.exists() else 'folder not found'}")
    if out_dir.exists() and not out_dir.is_dir():
        raise BatchUsageError(f"{out_dir}: exists and is not a folder; -o names the output folder")
    if not style.is_file():
        raise BatchUsageError(f"{style}: style image {'is not a file' if style.exists() else 'not found'}")
    if fmt not in OUTPUT_FORMATS:
        raise BatchUsageError(f"output format {fmt!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    try:
        check_name_template(name)
    except NameTemplateError as exc:
        raise BatchUsageError(str(exc)) from None

    in_real, out_real = in_dir.resolve(), out_dir.resolve()
    out_inside_in = out_real != in_real and out_real.is_relative_to(in_real)
    # Files an earlier batch wrote are results, not photos to stylise again.
    ours = {os.path.realpath(out_dir / key) for key in recorded_outputs(out_dir)}
    try:
        listing = _list_inputs(in_dir, recursive, out_real if out_inside_in else None, include_output_folders)
    except OSError as exc:
        raise BatchUsageError(f"{in_dir}: cannot list the folder ({exc.strerror or exc})") from None
    sources: list[Path] = []
    ignored: list[Path] = list(listing.others)
    for path in listing.regular:
        if os.path.realpath(path) in ours or (path.parent.resolve() == out_real and is_manifest_file(path)):
            continue
        (sources if is_image_path(path) else ignored).append(path)
    sources.sort(key=lambda p: p.relative_to(in_dir).as_posix())
    ignored.sort()

    items: list[BatchItem] = []
    for index, source in enumerate(sources, start=1):
        rel = source.relative_to(in_dir)
        destination = out_dir / rel.parent / output_name(name, source, style, prompts, invert, index, fmt)
        mask = mask_path_for(destination) if save_mask else None
        items.append(BatchItem(
            index=index,
            source=source,
            destination=destination,
            input_key=rel.as_posix(),
            output_key=destination.relative_to(out_dir).as_posix(),
            mask=mask,
            mask_key=None if mask is None else mask.relative_to(out_dir).as_posix(),
        ))
    inputs = [*(("photo", p) for p in sources), *(("file in IN_DIR", p) for p in ignored),
              ("style image", style), *protected]
    _refuse_collisions(items, inputs, same_folder=out_real == in_real, name=name)
    return BatchPlan(in_dir=in_dir, out_dir=out_dir, style=style, items=tuple(items), ignored=tuple(ignored),
                     output_folders=tuple(sorted(listing.output_folders)))


def _refuse_collisions(items: list[BatchItem], inputs: list[NamedInput], same_folder: bool, name: str) -> None:
    hint = (
        f"OUT_DIR is IN_DIR, so --name {name!r} must give names no input has, e.g. '{{stem}}.styled{{ext}}'"
        if same_folder
        else "OUT_DIR outside IN_DIR or another --name"
    )
    try:
        refuse_input_targets((path for item in items for path in item.written), inputs, choose=hint)
    except InputOverwriteError as exc:
        raise BatchUsageError(str(exc)) from None
    claimed: dict[str, BatchItem] = {}
    for item, written in ((each, path) for each in items for path in each.written):
        out = os.path.normcase(os.path.realpath(written))
        if out in claimed:
            raise BatchUsageError(
                f"{claimed[out].source} and {item.source} would both be written to "
                f"{written}; use a --name with {{ext}} or {{index}}, or --format keep"
            )
        claimed[out] = item
