"""The engine side of the app: what the worker thread holds (pipeline, caches) and every
piece of engine work the window asks for (previews, saves, folder jobs, model checks and
installs). Engine modules that pull in torch are imported inside methods, which only ever
run in the worker thread."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import Cancelled, StylerError
from engine.options import RenderOptions
from styler_app.environment import process_memory_mib
from styler_app.requests import BatchResult, MissingModel, PreviewResult, RenderRequest, SaveResult, SelectionResult

log = logging.getLogger(__name__)

# The quick pass renders the preview (and encodes its style) at 1/QUICK_DIVISOR of the
# size: 64 times fewer pixels, first pixels well within a second on two CPU cores.
QUICK_DIVISOR = 8
# Styles kept encoded: the whole sample gallery plus a few of the person's own.
STYLE_CACHE_SIZE = 12

if TYPE_CHECKING:  # for annotations only; never imported on the GUI thread
    from collections.abc import Callable

    import torch

    from engine.batch.runner import BatchEvent
    from engine.image_io import LoadedImage
    from engine.pipeline import Pipeline, RenderResult
    from engine.segment import Segmenter
    from styler_app.job_protocol import JobControl


@dataclass(frozen=True)
class EngineConfig:
    """How to build the engine; a change means a fresh session."""

    model_path: str | None = None  # a model file; None = the installed default model
    device: str = "auto"
    precision: str = "auto"
    style_size: int = 512  # the style's longer side when encoded (the CLI's --style-size)
    segmenter: str | None = None  # a CLIPSeg folder; None = the installed one, loaded on first prompt


class _PartContext:
    """One photo's share of a multi-photo job: its progress maps into the job's overall
    fraction; cancelling and failures go to the job."""

    def __init__(self, context: JobControl, number: int, total: int) -> None:
        self._context, self._number, self._total = context, number, total
        self.cancelled, self.check, self.item_failed = context.cancelled, context.check, context.item_failed

    def progress(self, fraction: float, message: str = "") -> None:
        overall = (self._number + min(fraction, 1.0)) / self._total
        label = f"{self._number + 1} of {self._total}"
        self._context.progress(min(overall, 0.999), f"{label}: {message}" if message else label)


class EngineSession:
    """Lives in the worker thread: one Pipeline, plus caches of decoded content and style."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self._pipeline: Pipeline | None = None
        self._quick: Pipeline | None = None
        self._model_name = "not loaded"
        self._contents: OrderedDict[tuple[str, int, int], tuple[LoadedImage, tuple[int, int]]] = OrderedDict()
        self._style_image: tuple[str, LoadedImage] | None = None  # the last style decoded

    # ------------------------------------------------------------------ building

    def pipeline(self, context: JobControl | None = None) -> Pipeline:
        if self._pipeline is None:
            from engine.models.store import resolve_style_model
            from engine.pipeline import Pipeline
            from engine.stylizer import Stylizer

            path = resolve_style_model(self.config.model_path)
            if context is not None:
                context.progress(0.0, f"loading model {path.name}")
            stylizer = Stylizer.from_file(
                path, device=self.config.device, precision=self.config.precision, style_size=self.config.style_size,
                style_cache_size=STYLE_CACHE_SIZE,
            )
            self._pipeline = Pipeline(stylizer, self._segmenter_loader(stylizer.device))
            self._model_name = path.stem
        return self._pipeline

    def quick_pipeline(self, context: JobControl | None = None) -> Pipeline:
        """The pipeline of quick passes: the same model, its own caches (see ``Pipeline.quick``)."""
        if self._quick is None:
            self._quick = self.pipeline(context).quick(max(1, self.config.style_size // QUICK_DIVISOR))
        return self._quick

    def _segmenter_loader(self, device: str | torch.device) -> Callable[[], Segmenter] | None:
        if self.config.segmenter is None:
            return None  # the pipeline loads the installed CLIPSeg when a prompt first needs it
        from engine.models.store import resolve_segmenter
        from engine.segment import load_segmenter

        folder = resolve_segmenter(self.config.segmenter)
        return lambda: load_segmenter(folder, device)

    def describe(self) -> dict[str, str]:
        memory = process_memory_mib()
        status = {"model": self._model_name, "memory": f"RAM {memory:.0f} MiB" if memory else ""}
        if self._pipeline is not None:
            import torch

            from engine.devices import describe_device

            device = self._pipeline.stylizer.device
            status["device"] = describe_device(device)
            if device.type == "cuda":
                used = torch.cuda.memory_allocated(device) / 2**20
                status["memory"] += f", GPU {used:.0f} MiB"
        return status

    def close(self) -> None:
        for pipeline in (self._pipeline, self._quick):
            if pipeline is not None:
                pipeline.stylizer.clear_caches()
        self._pipeline = self._quick = None

    # ------------------------------------------------------------------ work

    def preview(self, request: RenderRequest, size: int, context: JobControl) -> PreviewResult:
        from styler_app.images import rgb_to_qimage

        begin = time.perf_counter()
        pipeline = self.pipeline(context)
        image, photo_size = self._content(request.content, size)
        context.check()
        # Clicks are in the full photo's pixels; the preview is that photo made smaller.
        options = request.options.scaled_points(image.size[0] / photo_size[0], image.size[1] / photo_size[1])
        result = self._render(pipeline, image, replace(request, options=options), context)
        return PreviewResult(
            request=request,
            original=rgb_to_qimage(image.rgb),
            result=rgb_to_qimage(result.rgb),
            mask=result.mask if request.mask_edit is None else None,
            notes=list(result.notes),
            seconds=time.perf_counter() - begin,
            photo_size=photo_size,
        )

    def quick_preview(self, request: RenderRequest, size: int, context: JobControl) -> PreviewResult:
        """The preview rendered at 1/QUICK_DIVISOR of ``size`` through the quick pipeline and
        scaled up to the preview's size: something to show while ``preview`` renders."""
        from PySide6.QtCore import Qt

        from styler_app.images import rgb_to_qimage

        begin = time.perf_counter()
        pipeline = self.quick_pipeline(context)
        full, photo_size = self._content(request.content, size)
        image, _ = self._content(request.content, max(1, size // QUICK_DIVISOR), base=size)
        context.check()
        mask = request.mask_edit
        if mask is None and request.options.uses_region:
            # The region is found on the preview-sized photo, as the full pass finds it (and
            # its segmenter caches make that pass reuse the work); a region found on the
            # tiny image would be a different one.
            scaled = request.options.scaled_points(full.size[0] / photo_size[0], full.size[1] / photo_size[1])
            mask = self.pipeline(context).region_mask(full, scaled)
        if mask is not None:  # checked against the preview as the full pass will, then made small
            import numpy as np
            from PIL import Image

            from engine.masks import fit_mask

            mask = fit_mask(mask, full.size[1], full.size[0])
            mask = np.asarray(Image.fromarray(mask, mode="F").resize(image.size, Image.Resampling.BILINEAR))
        options = replace(request.options, prompts=(), negatives=(), points=())
        result = self._render(pipeline, image, replace(request, options=options, mask_edit=mask), context)
        width, height = full.size
        upscaled = rgb_to_qimage(result.rgb).scaled(
            width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        return PreviewResult(
            request=request, original=rgb_to_qimage(full.rgb), result=upscaled, mask=None,
            notes=list(result.notes), seconds=time.perf_counter() - begin, photo_size=photo_size, quick=True,
        )

    def save(self, request: RenderRequest, destination: Path, context: JobControl) -> SaveResult:
        from engine.image_io import load_image
        from engine.pipeline import save_result
        from engine.targets import refuse_input_targets

        pipeline = self.pipeline(context)
        model = pipeline.stylizer.info
        inputs = [("photo", request.content), ("style image", request.style)]
        refuse_input_targets([destination], inputs + ([("model", model.path)] if model else []), "file name")
        result = self._render(pipeline, load_image(request.content), request, context)
        context.check()
        save_result(destination, result)
        return SaveResult(destination, list(result.notes))

    def save_many(self, saves: list[tuple[RenderRequest, Path]], output: Path, context: JobControl) -> SelectionResult:
        """Several photos, each through ``save`` (its own brushed mask included): a photo that
        fails is listed with its reason and the others go on; cancelling stops between and
        inside photos."""
        ok = failed = 0
        for number, (request, destination) in enumerate(saves):
            context.check()
            try:
                self.save(request, destination, _PartContext(context, number, len(saves)))
                ok += 1
            except Cancelled:
                raise
            except Exception as error:  # one bad photo must not sink the others (as in batches)
                if not isinstance(error, StylerError):
                    log.exception("saving %s failed", request.content)
                reason = str(error) if isinstance(error, StylerError) else f"internal error: {type(error).__name__}: {error}"
                context.item_failed(str(request.content), reason)
                failed += 1
        context.progress(1.0, f"{ok} of {len(saves)} saved")
        return SelectionResult(output, ok, failed)

    def batch(
        self, folder: Path, output: Path, style: Path, options: RenderOptions, name_template: str, context: JobControl
    ) -> BatchResult:
        """A folder job through ``engine.batch``: the same manifest and resume as the CLI."""
        from engine.batch import plan_batch, run_batch

        plan = plan_batch(folder, output, style, name=name_template, prompts=options.prompts, invert=options.invert)
        pipeline = self.pipeline(context)

        def on_event(event: BatchEvent) -> None:
            if event.kind == "done" and event.status == "failed":
                context.item_failed(str(event.item.source), event.error or "failed")
            context.progress(event.done / max(event.total, 1), f"{event.done} of {event.total}")

        summary = run_batch(plan, pipeline, options, progress=on_event, cancel=context.cancelled)
        if summary.cancelled:
            raise Cancelled()
        return BatchResult(output, summary.ok, summary.failed, summary.skipped)

    # ------------------------------------------------------------------ models (first run)

    @staticmethod
    def missing_models() -> list[MissingModel]:
        """The models a first run still needs, as the first-run dialog lists them."""
        from engine.models.registry import human_size
        from engine.models.store import missing_required_models

        return [
            MissingModel(e.name, e.kind, e.title, f"{human_size(e.download_size)} download", e.license, e.manual)
            for e in missing_required_models()
        ]

    @staticmethod
    def install_model(name: str, context: JobControl) -> str:
        """Download and install a registry model; returns its name."""
        from engine.models.install import install
        from engine.models.registry import human_size

        def progress(done: int, total: int | None, rate: float) -> None:
            fraction = done / total if total else 0.0
            text = f"{human_size(done)} of {human_size(total)} · {human_size(rate)}/s" if total else human_size(done)
            context.progress(min(fraction, 0.999), text)

        return install(name, progress, context.cancelled).name

    @staticmethod
    def refiner_installed() -> bool:
        """Whether SAM 2 is there (click to select, and --refine's default)."""
        from engine.models.store import refiner_installed

        return refiner_installed()

    @staticmethod
    def import_model(path: str) -> str:
        """Install a model file or folder from disk; returns its name."""
        from engine.models.install import import_path

        return import_path(path).name

    # ------------------------------------------------------------------ internals

    def _render(self, pipeline: Pipeline, image: LoadedImage, request: RenderRequest, context: JobControl) -> RenderResult:
        """Through ``Pipeline.render`` like the CLI; a brushed mask replaces the prompts'."""
        self._set_style(pipeline, request.style)
        context.check()
        return pipeline.render(image, request.options, context.progress, context.cancelled, mask=request.mask_edit)

    def _content(self, path: Path, size: int, base: int | None = None) -> tuple[LoadedImage, tuple[int, int]]:
        """The content at preview size and the full photo's size, decoded once per (file,
        version, size); with ``base``, made smaller from the one at that size (not decoded
        again)."""
        from engine.image_io import load_image, resize_to_max_side

        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            raise StylerError(f"{path}: file not found") from None
        key = (str(path), stamp, size)
        if key in self._contents:
            self._contents.move_to_end(key)
            return self._contents[key]
        if base is not None:
            larger, photo_size = self._content(path, base)
            self._contents[key] = (resize_to_max_side(larger, size), photo_size)
        else:
            photo = load_image(path)
            self._contents[key] = (resize_to_max_side(photo, size), photo.size)
        while len(self._contents) > 6:  # two photos' full and quick sizes, and one more
            self._contents.popitem(last=False)
        return self._contents[key]

    def _set_style(self, pipeline: Pipeline, style: Path) -> None:
        key = self._style_key_of(style)
        if key != pipeline.stylizer.style_key and not pipeline.stylizer.select_style(key):
            pipeline.set_style(self._decoded_style(style, key), key=key)

    def style_encoded(self, style: Path) -> bool:
        """Whether ``style`` is encoded for both passes (a preview with it encodes nothing)."""
        key = self._style_key_of(style)
        return all(p is not None and p.stylizer.has_style(key) for p in (self._pipeline, self._quick))

    def style_encodings(self) -> int:
        """How many style encodings both passes have run (the style caches' misses)."""
        return sum(p.stylizer.style_encodings for p in (self._pipeline, self._quick) if p is not None)

    def prefetch_style(self, style: Path, context: JobControl) -> None:
        """Encode ``style`` for the quick and the full pass ahead of its first use (idle
        time), the model loaded first if need be; the current style stays current."""
        key = self._style_key_of(style)
        for pipeline in (self.quick_pipeline(context), self.pipeline(context)):
            context.check()
            if not pipeline.stylizer.has_style(key):
                pipeline.stylizer.encode_style(self._decoded_style(style, key).rgb, key, context.cancelled)

    @staticmethod
    def _style_key_of(style: Path) -> str:
        """The style's cache key: its file and version."""
        try:
            return f"{style}:{style.stat().st_mtime_ns}"
        except OSError:
            raise StylerError(f"{style}: style image not found; pick another style") from None

    def _decoded_style(self, style: Path, key: str) -> LoadedImage:
        """The style's pixels, decoded once for the quick and the full pass."""
        from engine.image_io import load_image

        if self._style_image is None or self._style_image[0] != key:
            self._style_image = (key, load_image(style))
        return self._style_image[1]

