"""SAM 2: box and point prompts in photo pixels -> mask logits, the image embedding cached.

Sam2Model.forward is two steps: the Hiera image encoder (the costly part, once per photo)
and a light prompt encoder + mask decoder (once per prompt). They are run separately here,
the way ``engine.segment`` splits CLIPSeg, so that
  set_image(rgb)          encodes a photo once (LRU of a few photos),
  decode(prompts)         runs only the decoder, for any number of boxes and clicks,
and a click in the app costs one decoder pass (the first time: each prompt's logits are
kept with the photo's embedding, so the previews that follow, and the quick and full pass
of one preview, decode nothing again). The decoder pass is ``engine.sam2_decoder``: the
library's layers with the photo's share of their work done in ``set_image``.

Coordinates: prompts are given in the photo's pixel coordinates (x right, y down, the
upright photo as loaded), where a pixel (i, j) covers [i, i + 1) × [j, j + 1). SAM 2's
processor resizes the photo to its square input without keeping the aspect ratio, so x
and y scale separately. The decoder's low-resolution logits cover the same square, i.e.
the whole photo; ``upsample_logits`` brings them to the photo's pixels, or to those of a
box only (``photo_box``: where a low-resolution sample can reach).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from engine.compose import region_box
from engine.devices import resolve_device
from engine.errors import StylerError
from engine.image_io import image_key, to_uint8
from engine.loaded_models import LoadedModels
from engine.options import Click
from engine.sam2_decoder import PhotoPrompts, PreparedPhoto

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
_DECODED_CACHE_SIZE = 64  # prompts' logits kept (256 KB each at SAM 2's 256 × 256)


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
        self._prompts = PhotoPrompts(self.model)
        self._images: OrderedDict[str, PreparedPhoto] = OrderedDict()
        self._decoded: OrderedDict[tuple[object, ...], torch.Tensor] = OrderedDict()
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
        self._images[key] = self._prompts.prepare(list(embeddings))
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
        return self._remembered(("boxes", *prompts), lambda: self._decode_boxes(prompts))

    def _decode_boxes(self, prompts: Sequence[BoxPrompt]) -> torch.Tensor:
        boxes = torch.tensor([[self._to_model(*p.box[:2]) + self._to_model(*p.box[2:]) for p in prompts]])
        points = torch.tensor([[[self._to_model(p.point[0], p.point[1])] for p in prompts]])
        labels = torch.ones(1, len(prompts), 1, dtype=torch.int64)
        return self._decode(points, labels, boxes, multimask=False)

    def decode_click(self, click: Click) -> torch.Tensor:
        """(h, w) float32 logits of the object under one click. A point is ambiguous (a shirt
        or the person wearing it): SAM rates three candidates and the best one is kept, as
        SAM's own predictor does for a single click (only that one is upscaled). Adding and removing
        an object click the same: a removal is the same outline, subtracted."""
        return self._remembered(("click", click.x, click.y), lambda: self._decode_click(click))

    def _decode_click(self, click: Click) -> torch.Tensor:
        points = torch.tensor([[[self._to_model(click.x + 0.5, click.y + 0.5)]]])
        labels = torch.ones(1, 1, 1, dtype=torch.int64)
        return self._decode(points, labels, None, multimask=True)[0]

    def _remembered(self, prompt: tuple[object, ...], decode: Callable[[], torch.Tensor]) -> torch.Tensor:
        """The current photo's logits for ``prompt``, decoded only the first time."""
        if self._image_key is None:
            raise StylerError("no image set for the refiner")
        key = (self._image_key, *prompt)
        logits = self._decoded.get(key)
        if logits is None:
            logits = self._decoded[key] = decode()
            while len(self._decoded) > _DECODED_CACHE_SIZE:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(key)
        return logits

    def _to_model(self, x: float, y: float) -> list[float]:
        """Photo pixel coordinates -> the model's input square (aspect not kept)."""
        height, width = self.image_size
        side = self.input_size
        return [x * side / width, y * side / height]

    def _decode(
        self, points: torch.Tensor, labels: torch.Tensor, boxes: torch.Tensor | None, multimask: bool
    ) -> torch.Tensor:
        """(prompts, h, w) float32 logits on the CPU, one mask per prompt."""
        if self._image_key is None:
            raise StylerError("no image set for the refiner")
        masks = self._prompts.decode(
            self._images[self._image_key],
            points.to(self.device, torch.float32),
            labels.to(self.device),
            None if boxes is None else boxes.to(self.device, torch.float32),
            multimask,
        )
        return masks.float().cpu()

    def clear_caches(self) -> None:
        self._images.clear()
        self._decoded.clear()
        self._image_key = None
        self._size = None


def upsample_logits(logits: np.ndarray, size: tuple[int, int], box: tuple[slice, slice] | None = None) -> np.ndarray:
    """(h, w) float32 decoder logits covering the whole photo -> float32 logits at the photo's
    pixels (``size`` = (height, width)), or at the pixels of ``box`` only: bilinear as SAM's
    own post-processing (``F.interpolate``, ``align_corners=False``), done one axis at a time
    so that a box costs its own pixels and not the photo's. The same taps, weights and
    order of operations as PyTorch's kernel; only its fused multiply-adds are not copied,
    so values agree to float32 rounding (a few 1e-6 on logits of ±20). NumPy, because its
    row gathers are several times faster than torch's indexing on the CPU, and small
    arrays do not wake a thread pool."""
    height, width = size
    rows, cols = box or (slice(0, height), slice(0, width))
    i0, i1, wy = _taps(logits.shape[0], height, rows)
    j0, j1, wx = _taps(logits.shape[1], width, cols)
    first = int(i0[0])
    needed = logits[first : int(i1[-1]) + 1]
    wide = needed[:, j0] * (1 - wx) + needed[:, j1] * wx  # (rows read, box columns): small
    top = wide[i0 - first]
    top *= (1 - wy)[:, None]
    bottom = wide[i1 - first]
    bottom *= wy[:, None]
    top += bottom
    return top


def photo_box(samples: np.ndarray, size: tuple[int, int]) -> tuple[slice, slice] | None:
    """The box of photo pixels (``size`` = (height, width)) whose upsampled value depends on
    a True one of the (h, w) low-resolution ``samples`` (None: none is True). Bilinear
    values are weighted means of their samples, so nothing outside it can exceed the
    largest of those samples."""
    box = region_box(samples)
    if box is None:
        return None
    top, left, bottom, right = box
    return _reached(samples.shape[0], size[0], top, bottom - 1), _reached(samples.shape[1], size[1], left, right - 1)


def _taps(n_in: int, n_out: int, span: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Output positions ``span`` of a bilinear resize n_in -> n_out: the two input indices
    each reads and the weight of the second, as PyTorch computes them: float32, source
    index scale·(i + 0.5) − 0.5 in one fused multiply-add (done here in float64, where
    it is exact, then rounded once), clamped at 0 and at the last sample."""
    out = (np.arange(span.start, span.stop, dtype=np.float32) + np.float32(0.5)).astype(np.float64)
    scale = np.float64(np.float32(n_in) / np.float32(n_out))
    source = np.maximum((scale * out - 0.5).astype(np.float32), np.float32(0))
    first = np.minimum(np.floor(source).astype(np.int64), n_in - 1)
    weight = np.clip(source - first, 0, 1).astype(np.float32)
    second = first + (first < n_in - 1)
    return first, second, weight


def _reached(n_in: int, n_out: int, first: int, last: int) -> slice:
    """The output positions that read any of input positions first..last."""
    a, b, _ = _taps(n_in, n_out, slice(0, n_out))
    hit = np.flatnonzero((b >= first) & (a <= last))
    return slice(int(hit[0]), int(hit[-1]) + 1)


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
