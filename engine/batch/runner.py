"""Running a planned batch: the style set once, files decoded ahead, results saved behind.

Three threads share the work so the device is not left waiting on the disk:
  loader  decodes, downsizes and hashes the next ``prefetch`` images (PIL and hashlib
          release the GIL)
  caller  renders, one image at a time (the Stylizer is not thread-safe)
  writer  encodes and atomically writes the finished image
Entries reach the manifest, and events reach ``progress``, on the caller's thread, after
the output file is complete.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from engine.atomic import DiskFullError
from engine.batch.lock import output_folder_lock
from engine.batch.manifest import ManifestEntry, ManifestWriter, ResumeIndex, Status, read_entries
from engine.batch.plan import BatchItem, BatchPlan, BatchUsageError
from engine.devices import is_out_of_memory
from engine.errors import CancelCallback, Cancelled, StylerError
from engine.image_io import LoadedImage, load_image
from engine.masks import save_mask
from engine.options import RenderOptions
from engine.pipeline import Pipeline, RenderResult, save_result
from engine.stylizer import Stylizer

DEFAULT_PREFETCH = 2
# Finished images waiting for the writer; more would only hold memory.
_MAX_PENDING_SAVES = 2


@dataclass(frozen=True)
class BatchEvent:
    """One step of a batch, for a progress display."""

    kind: Literal["start", "done"]  # start: rendering this item begins; done: it has an outcome
    item: BatchItem
    done: int  # items with an outcome so far (this shard)
    total: int  # items in this shard
    ok: int
    failed: int
    skipped: int
    status: Status | None = None  # for "done"
    error: str | None = None  # why it failed or was skipped
    seconds: float = 0.0  # render + save time of this item
    rate: float = 0.0  # rendered images per second so far (skips not counted)
    eta: float | None = None  # seconds left at that rate; None until known
    notes: tuple[str, ...] = ()


@dataclass
class BatchSummary:
    total: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    cancelled: bool = False  # stopped early; the unfinished inputs have no entry yet
    stopped: str | None = None  # why the batch could not go on (a full disk), or None
    failures: list[tuple[Path, str]] = field(default_factory=list)

    def combine(self, other: BatchSummary) -> BatchSummary:
        """Two shards' summaries as one (the seconds of the slower)."""
        return BatchSummary(
            total=self.total + other.total,
            ok=self.ok + other.ok,
            failed=self.failed + other.failed,
            skipped=self.skipped + other.skipped,
            seconds=max(self.seconds, other.seconds),
            cancelled=self.cancelled or other.cancelled,
            stopped=self.stopped or other.stopped,
            failures=self.failures + other.failures,
        )


ProgressHandler = Callable[[BatchEvent], None]


def file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _cached_digest(path: Path, size: int, mtime_ns: int) -> str:
    return file_digest(path)


def _model_identity(stylizer: Stylizer) -> str:
    if stylizer.info is not None:
        # A model file is ~100 MB: hash it once per process while it stays unchanged.
        path = stylizer.info.path.resolve()
        stat = path.stat()
        return f"model={_cached_digest(path, stat.st_size, stat.st_mtime_ns)}"
    digest = hashlib.blake2b(digest_size=16)  # a model built in memory: hash its weights
    for name, tensor in sorted(stylizer.model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return f"model={digest.hexdigest()}"


def batch_settings_hash(plan: BatchPlan, pipeline: Pipeline, options: RenderOptions) -> str:
    """What decides the outputs' pixels: options, model and style contents, and the
    Stylizer's own settings. The device is left out: it changes rounding, not the picture."""
    stylizer = pipeline.stylizer
    segmenter = f"segmenter={pipeline.load_segmenter().folder.resolve()}" if options.uses_region else ""
    return options.settings_hash(
        segmenter,
        _model_identity(stylizer),
        f"style={file_digest(plan.style)}",
        f"style_size={stylizer.style_size}",
        f"style_attention={stylizer.style_attention}",
        f"seed={stylizer.seed}",
        f"dtype={stylizer.dtype}",
    )


def _load(item: BatchItem, max_size: int | None) -> LoadedImage:
    image = load_image(item.source, max_size)
    # Hashed here, in the loader thread, while the engine renders the photo before: the
    # caches' key of a 4096² photo is 0.15 s of CPU, a third of a GPU render.
    _ = image.key
    return image


def _write(item: BatchItem, result: RenderResult) -> None:
    save_result(item.destination, result)
    if item.mask is not None:
        # A photo without a region was styled everywhere: its mask is all white.
        mask = result.mask if result.mask is not None else np.ones(result.rgb.shape[:2], np.float32)
        save_mask(item.mask, mask)


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, StylerError):
        return str(exc)
    if is_out_of_memory(exc):
        return "out of memory even on the low-memory path"
    return f"internal error: {type(exc).__name__}: {exc}"


def _remove_stale_temporaries(items: tuple[BatchItem, ...]) -> None:
    """Hidden '.NAME.*.part' files a killed run left beside this shard's outputs (a clean
    stop never leaves any: atomic writes remove their own)."""
    written = [path for item in items for path in item.written]
    for folder in {path.parent for path in written}:
        if not folder.is_dir():
            continue
        names = {path.name for path in written if path.parent == folder}
        for temp in folder.glob(".*.part"):
            if any(temp.name.startswith(f".{name}.") for name in names):
                temp.unlink(missing_ok=True)


class _Tally:
    def __init__(self, total: int, progress: ProgressHandler | None) -> None:
        self.summary = BatchSummary(total=total)
        self.progress = progress
        self.started = time.monotonic()
        self.render_started: float | None = None  # rate counts from the first render
        self.rendered = 0
        self.to_render = 0
        self.disk_full: DiskFullError | None = None  # the first one stops the batch

    def emit(
        self, kind: Literal["start", "done"], item: BatchItem, *, status: Status | None = None, error: str | None = None,
        seconds: float = 0.0, notes: tuple[str, ...] = (),
    ) -> None:
        if self.progress is None:
            return
        s = self.summary
        rate = 0.0
        eta = None
        if self.render_started is not None and self.rendered:
            rate = self.rendered / max(time.monotonic() - self.render_started, 1e-9)
            eta = (self.to_render - self.rendered) / rate
        self.progress(BatchEvent(
            kind=kind, item=item, done=s.ok + s.failed + s.skipped, total=s.total,
            ok=s.ok, failed=s.failed, skipped=s.skipped, rate=rate, eta=eta, status=status, error=error, seconds=seconds, notes=notes,
        ))

    def record(self, manifest: ManifestWriter, item: BatchItem, status: Status, settings: str,
               error: str | None = None, seconds: float = 0.0, notes: tuple[str, ...] = ()) -> None:
        try:
            manifest.append(ManifestEntry(
                input=item.input_key, output=item.output_key, status=status, error=error,
                seconds=seconds, settings_hash=settings, notes=notes,
                mask=item.mask_key if status == "ok" else None,
            ))
        except DiskFullError as exc:
            # An output the manifest does not list would be kept as "not ours" by the next
            # run; without its line it is removed, and the next run renders it again.
            if status == "ok":
                for path in item.written:
                    path.unlink(missing_ok=True)
            self.disk_full = self.disk_full or exc
            return
        s = self.summary
        if status == "ok":
            s.ok += 1
        elif status == "failed":
            s.failed += 1
            s.failures.append((item.source, error or "failed"))
        else:
            s.skipped += 1
        if status != "skipped":
            self.rendered += 1
        self.emit("done", item, status=status, error=error, seconds=seconds, notes=notes)


def run_batch(
    plan: BatchPlan,
    pipeline: Pipeline,
    options: RenderOptions,
    *,
    overwrite: bool = False,
    progress: ProgressHandler | None = None,
    cancel: CancelCallback | None = None,
    prefetch: int = DEFAULT_PREFETCH,
) -> BatchSummary:
    """Render every item of ``plan`` not already done; see the package docstring."""
    stop = cancel or (lambda: False)
    try:
        style = load_image(plan.style)
    except StylerError as exc:
        raise BatchUsageError(f"style image: {exc}") from None
    if options.uses_region:
        pipeline.load_segmenter()  # now: a broken install is one error, not one per photo
    pipeline.set_style(style)  # encoded once; every render reuses it
    settings = batch_settings_hash(plan, pipeline, options)
    # A shard's folder lock is held by rank 0 for the whole sharded run.
    with output_folder_lock(plan.out_dir) if plan.manifest is None else nullcontext():
        resume = ResumeIndex(read_entries(plan.out_dir))
        _remove_stale_temporaries(plan.items)
        tally = _Tally(len(plan.items), progress)
        with ManifestWriter(plan.manifest_path) as manifest:
            todo: list[BatchItem] = []
            for item in plan.items:
                reason = None if overwrite else resume.skip_reason(
                    item.input_key, item.output_key, item.destination.exists(), settings
                )
                if reason is None:
                    todo.append(item)
                else:
                    tally.record(manifest, item, "skipped", settings, error=reason)
            tally.to_render = len(todo)
            tally.render_started = time.monotonic()
            _render_all(todo, pipeline, options, manifest, settings, tally,
                        lambda: tally.disk_full is not None or stop(), prefetch)
    if tally.disk_full is not None:
        tally.summary.stopped = str(tally.disk_full)
    else:
        tally.summary.cancelled = tally.rendered < len(todo)
    tally.summary.seconds = time.monotonic() - tally.started
    return tally.summary


def _render_all(
    todo: list[BatchItem],
    pipeline: Pipeline,
    options: RenderOptions,
    manifest: ManifestWriter,
    settings: str,
    tally: _Tally,
    stop: CancelCallback,
    prefetch: int,
) -> None:
    pending_saves: deque[tuple[BatchItem, float, RenderResult, Future[None]]] = deque()

    def finish_save() -> None:
        item, started, result, future = pending_saves.popleft()
        try:
            future.result()
        except DiskFullError as exc:
            tally.disk_full = tally.disk_full or exc  # no entry: the next run renders it
            return
        except Exception as exc:
            tally.record(manifest, item, "failed", settings, _failure_reason(exc), time.monotonic() - started)
            return
        tally.record(manifest, item, "ok", settings, seconds=time.monotonic() - started,
                     notes=tuple(result.notes))

    with ThreadPoolExecutor(1, "styler-load") as loader, ThreadPoolExecutor(1, "styler-save") as writer:
        ahead: dict[int, Future[LoadedImage]] = {}  # position in todo -> its decoding
        try:
            for position, item in enumerate(todo):
                if stop():
                    break
                for later in range(position + 1, min(position + 1 + prefetch, len(todo))):
                    if later not in ahead:
                        ahead[later] = loader.submit(_load, todo[later], options.max_size)
                tally.emit("start", item)
                started = time.monotonic()
                try:
                    image = ahead.pop(position).result() if position in ahead else _load(item, options.max_size)
                    result = pipeline.render(image, options, cancel=stop)
                except Cancelled:
                    break  # abandoned mid-image: no output, no entry; the next run redoes it
                except DiskFullError as exc:  # e.g. a mask temporary: the batch cannot go on
                    tally.disk_full = tally.disk_full or exc
                    break
                except Exception as exc:
                    tally.record(manifest, item, "failed", settings, _failure_reason(exc),
                                 time.monotonic() - started)
                    continue
                pending_saves.append((item, started, result, writer.submit(_write, item, result)))
                while pending_saves and (len(pending_saves) > _MAX_PENDING_SAVES or pending_saves[0][3].done()):
                    finish_save()
        finally:
            for future in ahead.values():
                future.cancel()
            while pending_saves:
                finish_save()
