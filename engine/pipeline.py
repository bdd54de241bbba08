"""One image through the whole engine: load, (mask), stylise, compose, save.

``styler stylize``, ``styler batch`` and the app's engine worker all call this, so a photo
comes out the same whichever way it was made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.compose import fuse, region_box
from engine.errors import CancelCallback, StylerError
from engine.image_io import LoadedImage, load_image, resize_to_max_side, save_image
from engine.masks import combine_logits, finish_mask, fit_mask, probability_map, save_mask
from engine.models.store import resolve_refiner, resolve_segmenter
from engine.naming import mask_path_for
from engine.options import REFINERS, RenderOptions
from engine.refined_mask import refined_region_mask
from engine.refiner import Refiner, load_refiner
from engine.segment import Segmenter, load_segmenter
from engine.stylizer import ProgressCallback, Stylizer

SegmenterLoader = Callable[[], Segmenter]
RefinerLoader = Callable[[], Refiner]


@dataclass
class RenderResult:
    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1], the final composed image
    image: LoadedImage  # the (possibly resized) input, with alpha and metadata
    mask: np.ndarray | None = None  # (H, W) float32 in [0, 1] when a region was used
    notes: list[str] = field(default_factory=list)  # things to tell the user, e.g. empty mask


class Pipeline:
    """Holds a Stylizer (and, once regions are used, a segmenter) for many images.

    ``segmenter`` is a Segmenter, or a function that loads one; it is called the first time
    a prompt is used, so photos without prompts never load CLIPSeg. By default the
    installed CLIPSeg on the stylizer's device (loaded once per process); ``refiner``
    (SAM 2) likewise, the first time options ask for ``refiner="sam"``.

    Every caller goes through these verbs: ``set_style``, ``load_segmenter``,
    ``load_refiner``, ``render``,
    ``render_file``; an image's pixels are hashed once (``LoadedImage.key``) and that
    identity keys the stylizer's and the segmenter's caches."""

    def __init__(
        self,
        stylizer: Stylizer,
        segmenter: Segmenter | SegmenterLoader | None = None,
        refiner: Refiner | RefinerLoader | None = None,
    ) -> None:
        self.stylizer = stylizer
        self._segmenter = segmenter
        self._refiner = refiner

    def quick(self, style_size: int | None) -> Pipeline:
        """A pipeline for quick low-resolution renders: the same weights, segmenter and
        refiner (loaded once, shared), its own stylizer caches, styles encoded at
        ``style_size``. Its renders go through ``render`` like any other."""
        return Pipeline(self.stylizer.companion(style_size), self.load_segmenter, self.load_refiner)

    def set_style(self, style: LoadedImage, key: str | None = None) -> None:
        """The style for the renders that follow; its encoding is cached (``key``, by
        default the pixels' identity, names it)."""
        self.stylizer.set_style(style.rgb, key=key or style.key)

    def load_segmenter(self) -> Segmenter:
        """CLIPSeg, loaded on first use; call it early to hear about a broken install once."""
        if self._segmenter is None:
            self._segmenter = load_segmenter(resolve_segmenter(None), self.stylizer.device)
        elif not isinstance(self._segmenter, Segmenter):
            self._segmenter = self._segmenter()
        return self._segmenter

    def load_refiner(self) -> Refiner:
        """SAM 2, loaded on first use (only when options ask for ``refiner="sam"``)."""
        if self._refiner is None:
            self._refiner = load_refiner(resolve_refiner(None), self.stylizer.device)
        elif not isinstance(self._refiner, Refiner):
            self._refiner = self._refiner()
        return self._refiner

    def region_mask(self, image: LoadedImage, options: RenderOptions) -> np.ndarray:
        """(H, W) float32 mask in [0, 1] of what ``options``' prompts (and clicks) select in ``image``."""
        if options.refiner == "sam":
            return region_mask_for(self.load_segmenter, image.rgb, options, image.key, refiner=self.load_refiner())
        return region_mask_for(self.load_segmenter(), image.rgb, options, image.key)

    def render(
        self,
        image: LoadedImage,
        options: RenderOptions,
        progress: ProgressCallback | None = None,
        cancel: CancelCallback | None = None,
        mask: np.ndarray | None = None,
    ) -> RenderResult:
        """Stylise ``image``: the whole of it, what ``options``' prompts select, or what
        ``mask`` selects ((h, w) in [0, 1], e.g. brushed or painted elsewhere, at the image's
        size or its aspect ratio; it replaces the prompts). Outside the mask every pixel is
        the input's, bit for bit; only the mask's box is rendered."""
        resized = resize_to_max_side(image, options.max_size)
        options = options.scaled_points(resized.size[0] / image.size[0], resized.size[1] / image.size[1])
        image = resized
        height, width = image.rgb.shape[:2]
        if mask is None and not options.uses_region:
            if options.invert:
                raise StylerError("inverting needs a region to invert: give a prompt or a negative prompt")
            self.stylizer.set_content(image.rgb, key=image.key)
            rgb = self.stylizer.render(options.strength, options.preserve_color, progress, cancel)
            return RenderResult(rgb=rgb, image=image)
        given = mask is not None
        if mask is not None:
            mask = fit_mask(mask, height, width)
        else:
            if progress is not None:
                progress(0.0, "finding the region")
            mask = self.region_mask(image, options)
        box = region_box(mask)
        if box is None:
            name = image.source or "the image"
            # Not an error: the photo passes through unchanged, and the user is told why.
            note = f"the mask selects nothing in {name}" if given else f"prompt matched nothing in {name}"
            return RenderResult(rgb=image.rgb.copy(), image=image, mask=mask, notes=[note])
        if not options.crop:
            box = (0, 0, height, width)
        self.stylizer.set_content(image.rgb, key=image.key)  # the encoder sees the whole photo
        stylized = self.stylizer.render(options.strength, options.preserve_color, progress, cancel, window=box)
        return RenderResult(rgb=fuse(image.rgb, stylized, mask, box), image=image, mask=mask)

    def render_file(
        self,
        source: Path,
        destination: Path,
        options: RenderOptions,
        progress: ProgressCallback | None = None,
        cancel: CancelCallback | None = None,
        mask: np.ndarray | None = None,
    ) -> RenderResult:
        # Decoded straight to the working size: a 100 MP photo never exists as float here.
        image = load_image(source, options.max_size)
        # Clicks are in the file's own pixels; render() takes them in the image's.
        photo_w, photo_h = image.photo_size
        options = options.scaled_points(image.size[0] / photo_w, image.size[1] / photo_h)
        result = self.render(image, options, progress, cancel, mask)
        save_result(destination, result)
        if options.save_mask:
            saved = result.mask if result.mask is not None else np.ones(result.rgb.shape[:2], np.float32)
            save_mask(mask_path_for(destination), saved)
        return result


def region_mask_for(
    segmenter: Segmenter | SegmenterLoader,
    rgb: np.ndarray,
    options: RenderOptions,
    key: str | None = None,
    refiner: Refiner | None = None,
) -> np.ndarray:
    """(H, W) float32 mask in [0, 1]: what ``options``' prompts, negatives and clicks select
    in ``rgb`` (``key``: the pixels' identity when already known); outlined by ``refiner``
    when ``options.refiner == "sam"``."""
    if not options.uses_region:
        raise ValueError("a region mask needs prompts, negatives or clicks")
    if options.refiner not in REFINERS:
        raise StylerError(f"unknown refiner {options.refiner!r}; use one of {', '.join(REFINERS)}")
    if options.refiner == "sam":
        if refiner is None:
            raise ValueError("refiner='sam' needs a Refiner")
        return refined_region_mask(
            segmenter, refiner, rgb, options.prompts, options.negatives, options.points, options.mask_settings, key
        )
    if options.points:
        raise StylerError("clicks (--point) need the SAM 2 refiner; drop --refine none")
    if not isinstance(segmenter, Segmenter):
        segmenter = segmenter()
    segmenter.set_image(rgb, key)
    prompts, negatives = list(options.prompts), list(options.negatives)
    logits = segmenter.logits(prompts + negatives)  # one decoder pass for all of them
    selection = combine_logits(
        logits[: len(prompts)] if prompts else None,
        logits[len(prompts) :] if negatives else None,
    )
    return finish_mask(probability_map(selection, rgb, options.refine), options.mask_settings)


def save_result(destination: Path, result: RenderResult) -> Path:
    image = result.image
    return save_image(
        destination, result.rgb, alpha=image.alpha, icc_profile=image.icc_profile, exif=image.exif
    )
