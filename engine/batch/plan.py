"""Which files a batch reads and where each result goes.

A plan is made before any work starts, so every refusal (an output that would land on an
input, two inputs sharing an output, a bad name template) happens up front and costs
nothing. Planning reads the folder once, sorted, so every rank of a sharded run and every
re-run of the same command sees the same list in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from engine.batch.manifest import MANIFEST_NAME, is_manifest_file, part_path, recorded_outputs
from engine.errors import StylerError
from engine.image_io import is_image_path
from engine.naming import NameTemplateError, check_name_template, mask_path_for, output_name

DEFAULT_NAME = "{stem}{ext}"
OUTPUT_FORMATS = ("keep", "png", "jpg", "webp")


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
    ignored: tuple[Path, ...] = ()  # files without an image suffix, left alone
    manifest: Path | None = None  # where this process appends; OUT_DIR/styler-manifest.jsonl

    @property
    def manifest_path(self) -> Path:
        return self.manifest or self.out_dir / MANIFEST_NAME

    def shard(self, rank: int, world_size: int) -> "BatchPlan":
        """This rank's share (every world_size-th file) writing its own manifest part."""
        if world_size <= 1:
            return self
        return replace(self, items=self.items[rank::world_size], manifest=part_path(self.out_dir, rank))


def _walk(in_dir: Path, recursive: bool, skip_dir: Path | None) -> Iterator[Path]:
    """Visible files under in_dir (hidden files and folders left out), not following
    folder links, never entering skip_dir (an OUT_DIR inside IN_DIR)."""
    if not recursive:
        for entry in in_dir.iterdir():
            if entry.is_file() and not entry.name.startswith("."):
                yield entry
        return
    for root, dirs, files in os.walk(in_dir):
        root_path = Path(root)
        dirs[:] = [
            d for d in dirs
            if not d.startswith(".") and (skip_dir is None or (root_path / d).resolve() != skip_dir)
        ]
        for name in files:
            if not name.startswith("."):
                yield root_path / name


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
) -> BatchPlan:
    """List IN_DIR's images and their outputs under OUT_DIR; refuses (BatchUsageError) any
    plan that could write over an input or write two inputs to one file. ``prompts`` and
    ``invert`` only name files ({prompt}); ``save_mask`` plans a mask beside each output."""
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
    ours = {(out_dir / key).resolve() for key in recorded_outputs(out_dir)}
    sources: list[Path] = []
    ignored: list[Path] = []
    try:
        for path in _walk(in_dir, recursive, out_real if out_inside_in else None):
            if path.resolve() in ours or (path.parent.resolve() == out_real and is_manifest_file(path)):
                continue
            (sources if is_image_path(path) else ignored).append(path)
    except OSError as exc:
        raise BatchUsageError(f"{in_dir}: cannot list the folder ({exc.strerror or exc})") from None
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
    _refuse_collisions(items, [*sources, *ignored], same_folder=out_real == in_real, name=name)
    return BatchPlan(in_dir=in_dir, out_dir=out_dir, style=style, items=tuple(items), ignored=tuple(ignored))


def _refuse_collisions(items: list[BatchItem], inputs: list[Path], same_folder: bool, name: str) -> None:
    def key(path: Path) -> str:
        return os.path.normcase(str(path.resolve()))

    input_keys = {key(p): p for p in inputs}
    claimed: dict[str, BatchItem] = {}
    for item, written in ((item, path) for item in items for path in item.written):
        out = key(written)
        if out in input_keys:
            hint = (
                f"OUT_DIR is IN_DIR, so --name {name!r} must give names no input has, "
                "e.g. '{stem}.styled{ext}'"
                if same_folder
                else "choose an OUT_DIR outside IN_DIR or another --name"
            )
            raise BatchUsageError(
                f"{item.source}: its output {written} would overwrite the input "
                f"{input_keys[out]}; {hint}"
            )
        if out in claimed:
            raise BatchUsageError(
                f"{claimed[out].source} and {item.source} would both be written to "
                f"{written}; use a --name with {{ext}} or {{index}}, or --format keep"
            )
        claimed[out] = item
