"""Folder jobs: many photos, one style, resumable, optionally spread over several GPUs.

Used by ``styler batch`` and by the app (Qt-free; call it from the engine worker thread)::

    from engine.batch import plan_batch, run_batch
    from engine.options import RenderOptions

    options = RenderOptions(strength=0.8, prompts=("sky",))
    plan = plan_batch(in_dir, out_dir, style_path, recursive=True,
                      name="{stem}_{style}{ext}", fmt="keep",
                      prompts=options.prompts, invert=options.invert)   # BatchUsageError if unsafe
    summary = run_batch(plan, pipeline, options, overwrite=False,
                        progress=on_event,          # called with a BatchEvent per file
                        cancel=lambda: stop_flag)   # polled between images and inside one
    summary.ok, summary.failed, summary.skipped, summary.failures, summary.cancelled

``run_batch`` encodes the style once, decodes the next images on a loader thread while the
current one renders, saves on a writer thread, and appends one line per input to
``OUT_DIR/styler-manifest.jsonl`` (see ``engine.batch.manifest``). Inputs whose output exists
from an earlier run with the same settings hash are skipped, so calling it again after a
crash or a cancel resumes. A file that cannot be read or rendered (damaged, not an image,
out of memory even on the low-memory path) becomes a ``failed`` entry with its reason and
the batch goes on. On cancel the image in progress is dropped (outputs are written
atomically, so no partial file) and ``summary.cancelled`` is True.

Events (``BatchEvent``) come on the calling thread: ``kind="start"`` when an image begins
rendering, ``kind="done"`` with ``status`` ok/failed/skipped, ``error``, ``seconds``, and the
running counts ``done``/``total``/``ok``/``failed``/``skipped``, ``rate`` (images/s) and ``eta``
(seconds). Skipped items are reported first, before rendering starts.

Modules: ``plan`` (walking IN_DIR, name templates, collision checks), ``manifest`` (the
jsonl record, resume decisions, merging rank parts), ``runner`` (run_batch), ``sharding``
(torchrun ranks), ``console`` (terminal progress and Ctrl-C, CLI only).
"""

from engine.batch.manifest import MANIFEST_NAME, ManifestEntry, merge_parts, read_entries
from engine.batch.plan import (
    BatchItem,
    BatchPlan,
    BatchUsageError,
    plan_batch,
)
from engine.batch.runner import BatchEvent, BatchSummary, batch_settings_hash, run_batch
from engine.batch.sharding import Shard
from engine.options import DEFAULT_NAME, OUTPUT_FORMATS

__all__ = [
    "DEFAULT_NAME",
    "MANIFEST_NAME",
    "OUTPUT_FORMATS",
    "BatchEvent",
    "BatchItem",
    "BatchPlan",
    "BatchSummary",
    "BatchUsageError",
    "ManifestEntry",
    "Shard",
    "batch_settings_hash",
    "merge_parts",
    "plan_batch",
    "read_entries",
    "run_batch",
]
