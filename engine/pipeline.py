"""One image through the whole engine: load, (mask), stylise, compose, save.

``styler stylize``, ``styler batch`` and the app's engine worker all call this, so a photo
comes out the same whichever way it was made."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import StylerError
from engine.image_io import LoadedImage, load_image, resize_to_max_side, save_image
from engine.stylizer import CancelCallback, ProgressCallback, Stylizer


@dataclass(frozen=True)
class RenderOptions:
    """Everything that decides an output's pixels, apart from the model and the style."""

    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = None  # cap on the content's longer side; None keeps its size
    prompts: tuple[str, ...] = ()  # region to stylise (union); empty = the whole image
    negatives: tuple[str, ...] = ()  # removed from the region
    invert: bool = False  # stylise everything except the region

    @property
    def uses_region(self) -> bool:
        return bool(self.prompts)

    def settings_hash(self, *extra: str) -> str:
        """Stable digest of the options plus e.g. the model and style identities."""
        payload = json.dumps([asdict(self), *extra], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass
class RenderResult:
    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1], the final composed image
    image: LoadedImage  # the (possibly resized) input, with alpha and metadata
    mask: np.ndarray | None = None  # (H, W) float32 in [0, 1] when a region was used
    notes: list[str] = field(default_factory=list)  # things to tell the user, e.g. empty mask


class Pipeline:
    """Holds a Stylizer (and, once regions are used, a segmenter) for many images."""

    def __init__(self, stylizer: Stylizer) -> None:
        self.stylizer = stylizer

    def render(
        self,
        image: LoadedImage,
        options: RenderOptions,
        progress: ProgressCallback | None = None,
        cancel: CancelCallback | None = None,
    ) -> RenderResult:
        image = resize_to_max_side(image, options.max_size)
        if options.uses_region:
            raise StylerError("region prompts need the segmenter, which this build lacks")
        self.stylizer.set_content(image.rgb)
        rgb = self.stylizer.render(
            strength=options.strength,
            preserve_color=options.preserve_color,
            progress=progress,
            cancel=cancel,
        )
        return RenderResult(rgb=rgb, image=image)

    def render_file(
        self,
        source: Path,
        destination: Path,
        options: RenderOptions,
        progress: ProgressCallback | None = None,
        cancel: CancelCallback | None = None,
    ) -> RenderResult:
        result = self.render(load_image(source), options, progress, cancel)
        save_result(destination, result)
        return result


def save_result(destination: Path, result: RenderResult) -> Path:
    image = result.image
    return save_image(
        destination, result.rgb, alpha=image.alpha, icc_profile=image.icc_profile, exif=image.exif
    )
