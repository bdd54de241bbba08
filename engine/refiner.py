"""SAM 2: box and point prompts in photo pixels -> mask logits, the image embedding cached.

Sam2Model.forward is two steps: the Hiera image encoder (the costly part, once per photo)
and a light prompt encoder + mask decoder (once per prompt). They are run separately here,
the way ``engine.segment`` splits CLIPSeg, so that
  set_image(rgb)          encodes a photo once (LRU of a few photos),
  decode(prompts)         runs only the decoder, for any number of boxes and clicks,
and a click in the app costs one decoder pass.

Coordinates: prompts are given in the photo's pixel coordinates (x right, y down, the
upright photo as loaded), where a pixel (i, j) covers [i, i + 1) × [j, j + 1). SAM 2's
processor resizes the photo to its square input without keeping the aspect ratio, so x
and y scale separately. The decoder's low-resolution logits cover the same square, i.e.
the whole photo; ``upsample_logits`` brings them to the photo's pixels.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from engine.devices import resolve_device
from engine.errors import StylerError
from engine.image_io import image_key, to_uint8
from engine.loaded_models import LoadedModels
from engine.options import Click

if TYPE_CHECKING:  # transformers is imported when a model loads, not when the CLI starts
    from transformers import Sam2ImageProcessor, Sam2Model

# model_type of the transformers SAM 2 checkpoints: facebook/sam2.1-* ship the video
# model's config ("sam2_video"); its image part loads into Sam2Model weight for weight.
SAM2_MODEL_TYPES = ("sam2", "sam2_video")
REQUIRED_FILES = {
    "weights": ("model.safetensors",),
    "image processor settings": ("preprocessor_config.json",),
}
_IMAGE_CACHE_SIZE = 2


@dataclass(frozen=True)
class BoxPrompt:
    """A box (x0, y0, x1, y1) with one point inside it that surely belongs to the object, in
    continuous photo coordinates: pixel (i, j) covers [i, i + 1) × [j, j + 1)."""

    box: tuple[float, float, float, float]
    point: tuple[float, float]


class Refiner:
    """A loaded SAM 2 model and image processor on one device. Not thread-safe."""

    def __init__(self, model: Sam2Model, image_processor: Sam2ImageProcessor, device: torch.device, folder: Path) -> None:
        self.model = model.to(device).eval()  # type: ignore[arg-type]  # transformers types the wrapped `to` without its self
        self.image_processor = image_processor
        self.device = device
        self.folder = folder
        self._images: OrderedDict[str, list[torch.Tensor]] = OrderedDict()
        self._image_key: str | None = None
        self._size: tuple[int, int] | None = None  # (height, width) of the current photo

    @classmethod
    def from_folder(cls, folder: Path, device: str | torch.device = "auto") -> Refiner:
        """Load a SAM 2 folder in the transformers layout (e.g. facebook/sam2.1-hiera-tiny);
        anything wrong with it is one StylerError naming it."""
        from transformers import Sam2ImageProcessor, Sam2Model
        from transformers.utils import logging as hf_logging

        folder = Path(folder)
        check_refiner_folder(folder)
        target = device if isinstance(device, torch.device) else resolve_device(device)
        bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
        hf_logging.disable_progress_bar()
        # "a sam2_video checkpoint into Sam2Model" is expected (see SAM2_MODEL_TYPES): no warning.
        hf_logging.set_verbosity_error()
        try:
            processor = Sam2ImageProcessor.from_pretrained(folder, local_files_only=True)
            model = Sam2Model.from_pretrained(folder, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - transformers/safetensors raise many kinds for a bad folder
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StylerError(
                f"{folder}: not a usable SAM 2 folder ({reason}); download it again with "
                "`styler models download sam2` or pass --refine none"
            ) from None
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        return cls(model, processor, target, folder)

    @property
    def input_size(self) -> int:
        """Side of the square SAM 2 encodes (1024 for the released models)."""
        return int(self.model.config.prompt_encoder_config.image_size)

    # ------------------------------------------------------------------ image

    def set_image(self, rgb: np.ndarray, key: str | None = None) -> str:
        """Make ``rgb`` (H, W, 3 float in [0, 1]) the current photo; its embedding is computed
        once and kept for the last few photos."""
        key = key or image_key(rgb)
        self._image_key = key
        self._size = (int(rgb.shape[0]), int(rgb.shape[1]))
        if key in self._images:
            self._images.move_to_end(key)
            return key
        pixels = self.image_processor(images=[to_uint8(rgb)], return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            embeddings = self.model.get_image_embeddings(pixels.to(self.device, torch.float32))
        self._images[key] = list(embeddings)
        while len(self._images) > _IMAGE_CACHE_SIZE:
            self._images.popitem(last=False)
        return key

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the current photo."""
        if self._size is None:
            raise StylerError("no image set for the refiner")
        return self._size

    # ------------------------------------------------------------------ prompts

    def decode_boxes(self, prompts: Sequence[BoxPrompt]) -> torch.Tensor:
        """(R, h, w) float32 logits on the CPU, one mask per box (with its point), all in one
        decoder pass. A box is unambiguous, so SAM's single-mask output is used."""
        if not prompts:
            raise ValueError("decode_boxes() needs at least one prompt")
        boxes = torch.tensor([[self._to_model(*p.box[:2]) + self._to_model(*p.box[2:]) for p in prompts]])
        points = torch.tensor([[[self._to_model(p.point[0], p.point[1])] for p in prompts]])
        labels = torch.ones(1, len(prompts), 1, dtype=torch.int64)
        logits, _ = self._decode(points, labels, boxes, multimask=False)
        return logits[:, 0]

    def decode_click(self, click: Click) -> torch.Tensor:
        """(h, w) float32 logits of the object under one click. A point is ambiguous (a shirt
        or the person wearing it), so SAM's three candidates are made and the one it rates
        best is kept, as SAM's own predictor does for a single click."""
        points = torch.tensor([[[self._to_model(click.x + 0.5, click.y + 0.5)]]])
        labels = torch.ones(1, 1, 1, dtype=torch.int64)
        logits, scores = self._decode(points, labels, None, multimask=True)
        return logits[0, int(scores[0].argmax())]

    def _to_model(self, x: float, y: float) -> list[float]:
        """Photo pixel coordinates -> the model's input square (aspect not kept)."""
        height, width = self.image_size
        side = self.input_size
        return [x * side / width, y * side / height]

    def _decode(
        self, points: torch.Tensor, labels: torch.Tensor, boxes: torch.Tensor | None, multimask: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self._image_key is None:
            raise StylerError("no image set for the refiner")
        embeddings = self._images[self._image_key]
        with torch.inference_mode():
            out = self.model(
                image_embeddings=embeddings,
                input_points=points.to(self.device, torch.float32),
                input_labels=labels.to(self.device),
                input_boxes=None if boxes is None else boxes.to(self.device, torch.float32),
                multimask_output=multimask,
            )
        # pred_masks: (1, prompts, masks per prompt, h, w); iou_scores: (1, prompts, masks).
        return out.pred_masks[0].float().cpu(), out.iou_scores[0].float().cpu()

    def clear_caches(self) -> None:
        self._images.clear()
        self._image_key = None
        self._size = None


def upsample_logits(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(h, w) decoder logits covering the whole photo -> (H, W) logits at the photo's pixels,
    bilinear as SAM's own post-processing does."""
    return F.interpolate(logits.float()[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]


def is_refiner_folder(folder: Path) -> bool:
    return _model_type(folder) in SAM2_MODEL_TYPES


def _model_type(folder: Path) -> str | None:
    try:
        value = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def check_refiner_folder(folder: Path) -> None:
    """Catch the common wrong folders before transformers' longer messages."""
    if not folder.is_dir():
        raise StylerError(f"{folder}: SAM 2 folder not found")
    if not (folder / "config.json").is_file():
        raise StylerError(f"{folder}: no config.json; expected a SAM 2 model folder")
    model_type = _model_type(folder)
    if model_type not in SAM2_MODEL_TYPES:
        raise StylerError(f"{folder}: holds a {model_type!r} model, not SAM 2; pass a SAM 2 folder")
    for part, alternatives in REQUIRED_FILES.items():
        if not any((folder / name).is_file() for name in alternatives):
            raise StylerError(
                f"{folder}: incomplete SAM 2 folder, no {part} ({' or '.join(alternatives)}); "
                "download it again with `styler models download sam2`"
            )


_loaded: LoadedModels[Refiner] = LoadedModels(Refiner.from_folder)


def load_refiner(folder: Path, device: str | torch.device = "auto") -> Refiner:
    """The process-wide Refiner for ``folder`` on ``device``: loaded on first use only."""
    return _loaded.get(folder, device)


def forget_loaded_refiners() -> None:
    _loaded.forget()
