"""What decides an output's pixels, as plain values: ``RenderOptions`` for a render and the
``MaskSettings`` it hands to mask post-processing. The one settings type shared by the CLI,
batches and the app, with the one set of defaults; torch-free, so the GUI thread can hold it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Literal

# The style image's longer side before encoding.
DEFAULT_STYLE_SIZE = 512

# How each attention level covers the style (engine.attention implements them):
#   "release" (default) the released code's random subset of style positions (above 4096
#             at relu3_1, 65 536 deeper), drawn with the authors' seed unless one is given:
#             their code's pixels, and of the reductions measured the closest to exact
#             attention (bench/README.md, "Style attention").
#   "pooled"  above 4096 style positions, square cells of the style map: their mean key
#             and the mean of V and of V⊙V.
#   "exact"   every style position.
StyleReduction = Literal["release", "pooled", "exact"]
STYLE_REDUCTIONS: tuple[str, ...] = ("release", "pooled", "exact")
DEFAULT_STYLE_REDUCTION: StyleReduction = "release"
RELEASE_SEED = 6666  # the seed of the authors' test options, re-applied at every level

# ``styler batch`` output names and formats.
DEFAULT_NAME = "{stem}{ext}"
OUTPUT_FORMATS = ("keep", "png", "jpg", "webp")

REFINERS = ("sam", "none")  # --refine: outline regions with SAM 2, or CLIPSeg's map as it is


@dataclass(frozen=True)
class Click:
    """A click on the photo: add (positive) or remove the object under it. Pixel coordinates
    of the upright photo as loaded (EXIF orientation applied), before any --max-size."""

    x: float
    y: float
    positive: bool = True

    def scaled(self, sx: float, sy: float) -> Click:
        """The same spot on the photo resized by (sx, sy): the pixel centres scale."""
        return Click((self.x + 0.5) * sx - 0.5, (self.y + 0.5) * sy - 0.5, self.positive)


@dataclass(frozen=True)
class MaskSettings:
    """How CLIPSeg's probabilities become the mask the fusion uses (engine.masks.finish_mask)."""

    threshold: float = 0.4  # CLIPSeg probability at which a pixel belongs to the region
    invert: bool = False  # the mask is everything outside the region
    soft: bool = False  # inside the region, opacity follows CLIPSeg's confidence
    feather: float = 3.0  # edge softening: the mask ramps over ±feather output pixels
    grow: float = 0.0  # pixels to grow the region by (negative shrinks it)
    min_area: float = 0.001  # islands and holes smaller than this fraction are removed
    refine: bool = True  # snap edges to the image with a guided filter


@dataclass(frozen=True)
class RenderOptions:
    """Everything that decides an output's pixels, apart from the model and the style."""

    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = None  # cap on the content's longer side; None keeps its size
    prompts: tuple[str, ...] = ()  # region to stylise (union); empty = the whole image
    negatives: tuple[str, ...] = ()  # removed from the region
    invert: bool = False  # stylise everything except the region
    # The mask controls, with MaskSettings' defaults (the one place they are set).
    threshold: float = MaskSettings.threshold
    soft: bool = MaskSettings.soft
    feather: float = MaskSettings.feather
    grow: float = MaskSettings.grow
    min_area: float = MaskSettings.min_area
    refine: bool = MaskSettings.refine
    crop: bool = True  # stylise only the region's box plus context when it is small
    save_mask: bool = False  # render_file also writes <output stem>.mask.png
    refiner: str = "none"  # "sam": outline the region with SAM 2 (see engine.refined_mask)
    points: tuple[Click, ...] = ()  # clicks in the photo's pixels (before max_size); need SAM

    @property
    def uses_region(self) -> bool:
        return bool(self.prompts or self.negatives or self.points)

    def scaled_points(self, sx: float, sy: float) -> RenderOptions:
        """The same options for the photo resized by (sx, sy): clicks follow the pixels."""
        if not self.points or (sx, sy) == (1.0, 1.0):
            return self
        return replace(self, points=tuple(p.scaled(sx, sy) for p in self.points))

    @property
    def mask_settings(self) -> MaskSettings:
        return MaskSettings(
            threshold=self.threshold, invert=self.invert, soft=self.soft,
            feather=self.feather, grow=self.grow, min_area=self.min_area, refine=self.refine,
        )

    def settings_hash(self, *extra: str) -> str:
        """Stable digest of the options plus e.g. the model and style identities."""
        payload = json.dumps([asdict(self), *extra], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
