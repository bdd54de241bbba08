"""The object the CLI, the batch runner and the app share: a loaded model plus its caches.

Like a predictor, it separates the expensive, reusable steps:
  set_content(image)  encoder features of the content, once per image
  set_style(image)    the style's K and [V, V⊙V] per level, cached per style (LRU)
  render(strength, preserve_color, window)
                      attention (cached per content×style×window), blend + decode (cached
                      per strength), colour option (cheap, never cached)
so a change of strength or colour re-runs only what that change touches.

``window`` renders only a box of the photo (a mask's region): the encoder has seen the
whole photo, so its statistics are the photo's, and attention and decoder run over the box
plus a halo wider than the decoder's receptive field. Inside the box the pixels equal a
whole-photo render up to float rounding (tests/test_region.py); cropping the photo instead
would normalise over the crop and change them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict, TypeVar, Unpack

import numpy as np
import torch

from engine.attention import StyleMemory
from engine.checkpoint import ModelInfo, load_model
from engine.compose import Box
from engine.compose import preserve_color as apply_preserve_color
from engine.devices import (
    available_memory,
    is_out_of_memory,
    precision_name,
    release_cached_memory,
    resolve_device,
    resolve_dtype,
)
from engine.encoded_content import EncodedContent
from engine.errors import CancelCallback, Remedy, StylerError, check_cancel
from engine.image_io import image_key
from engine.image_sizes import (
    MIN_SIDE,
    PAD_MARGIN,
    encoder_bytes,
    longer_side_size,
    pad_to_stride,
    pixels_on_host,
    resize_longer_side,
)
from engine.lean_decode import (
    LARGE_DECODER_TILE,
    LEAN_ATTENTION_CHUNK,
    LEAN_DECODER_TILE,
    decode_tiled,
)
from engine.network import Features, StyleNet, level_stride, under_window
from engine.options import DEFAULT_STYLE_REDUCTION, DEFAULT_STYLE_SIZE, STYLE_REDUCTIONS, StyleReduction
from engine.strip_encoder import fits_one_pass
from engine.winograd import use_winograd

_Result = TypeVar("_Result")


class StylizerOptions(TypedDict, total=False):
    """Stylizer's keyword settings, for ``Stylizer.from_file``."""

    device: str
    precision: str
    style_size: int | None
    style_attention: StyleReduction
    subsample_style: bool
    seed: int | None
    style_cache_size: int
    winograd: bool

ProgressCallback = Callable[[float, str], None]


class Stylizer:
    """Owns a StyleNet on one device and the caches around it. Not thread-safe: one thread
    (the CLI's main thread, or the app's engine worker) drives it."""

    def __init__(
        self,
        model: StyleNet,
        device: str = "auto",
        precision: str = "auto",
        style_size: int | None = DEFAULT_STYLE_SIZE,
        style_attention: StyleReduction = DEFAULT_STYLE_REDUCTION,
        subsample_style: bool = False,
        seed: int | None = None,
        style_cache_size: int = 4,
        info: ModelInfo | None = None,
        winograd: bool = True,
    ) -> None:
        """``winograd``: on a CPU in float32, run the wide 3×3 convolutions through NNPACK's
        Winograd kernels (engine/winograd.py); off, every convolution is a direct one."""
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(precision, self.device)
        # Channels-last lets oneDNN convolve without reordering every activation (11 % faster
        # end to end on the CPU at 512 px). Not on CUDA: its reflection padding returns
        # contiguous tensors, and converting back before each conv cost a third of the GPU
        # time on an H100 (bench/README.md, "On a GPU").
        self._memory_format = torch.channels_last if self.device.type == "cpu" else torch.contiguous_format
        # torch's stubs leave out the memory_format that Module.to accepts
        self.model = model.to(self.device, self.dtype, memory_format=self._memory_format).eval()  # type: ignore[call-overload]
        wanted = winograd and self.device.type == "cpu" and self.dtype == torch.float32
        self.winograd = use_winograd(self.model, wanted) > 0
        self.info = info
        self.style_size = style_size
        # ``subsample_style`` is the older spelling of style_attention="release".
        self.style_attention: StyleReduction = "release" if subsample_style else style_attention
        if self.style_attention not in STYLE_REDUCTIONS:
            raise StylerError(
                f"unknown style attention {style_attention!r}; expected one of {', '.join(STYLE_REDUCTIONS)}"
            )
        self.seed = seed
        self.lean = False  # switched on for good after an out-of-memory error
        self._style_cache_size = style_cache_size
        self.style_encodings = 0  # how many styles were encoded (the cache's misses)
        self._memories: OrderedDict[str, dict[int, StyleMemory]] = OrderedDict()
        self._style_key: str | None = None
        self._content: EncodedContent | None = None
        self._attended: tuple[tuple[str, str, Box | None], dict[int, torch.Tensor]] | None = None
        self._decoded: tuple[tuple[str, str, float, Box | None], np.ndarray] | None = None

    @classmethod
    def from_file(cls, path: str | Path, **options: Unpack[StylizerOptions]) -> Stylizer:
        model, info = load_model(path)
        return cls(model, info=info, **options)

    def companion(self, style_size: int | None) -> Stylizer:
        """A Stylizer on the same weights (no copy) with caches of its own and styles encoded
        at ``style_size``: quick low-resolution previews run on it without evicting this
        one's cached content, attention and decode."""
        return Stylizer(
            self.model, device=str(self.device), precision=precision_name(self.dtype), style_size=style_size,
            style_attention=self.style_attention, seed=self.seed, style_cache_size=self._style_cache_size,
            info=self.info, winograd=self.winograd,
        )

    # ------------------------------------------------------------------ inputs

    def _to_tensor(self, rgb: np.ndarray) -> torch.Tensor:
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB array, got shape {rgb.shape}")
        tensor = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32))
        image = tensor.permute(2, 0, 1)[None].to(self.device, self.dtype)  # (1, 3, H, W)
        return image.contiguous(memory_format=self._memory_format)

    def set_content(self, rgb: np.ndarray, key: str | None = None) -> None:
        """Encode the content image (H, W, 3 float in [0, 1]); a no-op for the same pixels."""
        key = key or image_key(rgb)
        if self._content is not None and self._content.key == key:
            return
        self._content = None
        self._attended = self._decoded = None
        self.check_memory(rgb.shape[0], rgb.shape[1], "the photo", "smaller_image")
        image, size = pad_to_stride(self._to_tensor(rgb))
        features = self.guarded(lambda: self._features(image))
        padded = (int(image.shape[-2]), int(image.shape[-1]))
        self._content = EncodedContent(key=key, rgb=rgb, size=size, padded=padded, features=features)

    def set_style(self, rgb: np.ndarray, key: str | None = None) -> str:
        """Make this the current style; its memories are computed once and kept (LRU)."""
        key = key or image_key(rgb)
        self._style_key = key
        if key in self._memories:
            self._memories.move_to_end(key)
            return key
        style_h, style_w = longer_side_size(rgb.shape[0], rgb.shape[1], self.style_size)
        self.check_memory(style_h, style_w, "the style image", "smaller_style")
        image = resize_longer_side(self._to_tensor(rgb), self.style_size)
        if min(image.shape[-2:]) < MIN_SIDE:
            # Too thin for the encoder's reflection padding (e.g. 3×5000): padded out like
            # a tiny content image; an ordinary style is left exactly as it is.
            image, _ = pad_to_stride(image)
        memories = self.guarded(
            lambda: self.model.style_memories(self._features(image), self.style_attention, self.seed)
        )
        self.style_encodings += 1
        self._memories[key] = memories
        while len(self._memories) > self._style_cache_size:
            self._memories.popitem(last=False)
        return key

    @property
    def style_key(self) -> str | None:
        """The current style's key (None before ``set_style``)."""
        return self._style_key

    def has_style(self, key: str) -> bool:
        """Whether the style named ``key`` is encoded and cached (``set_style`` will cost no
        encoding)."""
        return key in self._memories

    def select_style(self, key: str) -> bool:
        """Make the cached style ``key`` current without its pixels; False when it is not
        cached (then ``set_style`` it)."""
        if key not in self._memories:
            return False
        self._style_key = key
        self._memories.move_to_end(key)
        return True

    def encode_style(self, rgb: np.ndarray, key: str, cancel: CancelCallback | None = None) -> None:
        """Cache a style without making it current (idle-time prefetch; the current style is
        kept whatever the LRU order says). ``cancel`` is asked before every encoder layer
        that runs as a module (every convolution; at CPU inference the ReLU or pool before
        a pad runs inside it): waiting work starts within a layer, not a whole encoding
        (over a second on a CPU)."""
        current = self._style_key
        asked = [layer.register_forward_pre_hook(lambda *_: check_cancel(cancel)) for layer in self.model.encoder.layers]
        try:
            self.set_style(rgb, key)
        finally:  # a failed or cancelled encoding changes nothing either
            self._style_key = current
            for hook in asked:
                hook.remove()
        if current is not None and current in self._memories:
            self._memories.move_to_end(current)

    def check_memory(self, h: int, w: int, what: str, remedy: Remedy) -> None:
        """Refuse, before allocating, an image the encoder could not hold in memory here;
        ``remedy`` says what to make smaller (the CLI and the app word it)."""
        # Strips lower the bound only on CUDA, where running short raises; a CPU process may be killed.
        in_strips = self.device.type == "cuda" and self._in_strips(h + PAD_MARGIN, w + PAD_MARGIN)
        needed = encoder_bytes(h, w, self.dtype, in_strips)
        available = available_memory(self.device)
        if available is not None and needed > available:
            raise StylerError(
                f"{what} at {w}×{h} needs about {needed / 2**30:.1f} GB of memory, "
                f"{self.device} has {available / 2**30:.1f} GB available", remedy=remedy
            )

    def _in_strips(self, h: int, w: int) -> bool:
        """Whether an (h, w) input is encoded in strips: on the low-memory path, and past what
        one CUDA pass can index (engine/strip_encoder.py; on a CPU too, where the strips
        only save memory, so the path is the same everywhere)."""
        return self.lean or not fits_one_pass(h, w)

    def forget_content(self) -> None:
        """Drop the photo's encodings and renders (its memory between renders); keep the styles'."""
        self._content = None
        self._attended = self._decoded = None

    def clear_caches(self, release_memory: bool = True) -> None:
        """Forget every cached encoding; ``release_memory`` also hands the device allocator's
        cached blocks back (keep them for a next render of similar size)."""
        self._memories.clear()
        self._style_key = None
        self.forget_content()
        if release_memory:
            release_cached_memory(self.device)

    # ------------------------------------------------------------------ render

    def render(
        self,
        strength: float = 1.0,
        preserve_color: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelCallback | None = None,
        window: Box | None = None,
    ) -> np.ndarray:
        """The stylised content, (H, W, 3) float32 in [0, 1]: the whole image, or with
        ``window`` (top, left, bottom, right) only the pixels of that box."""
        if self._content is None:
            raise StylerError("no content image set")
        if self._style_key is None:
            raise StylerError("no style image set")
        if not 0.0 <= strength <= 1.0:
            raise StylerError(f"strength must be between 0 and 1, got {strength}")
        report = progress or (lambda fraction, message: None)
        content, style_key = self._content, self._style_key
        work = content.work_area(window)
        decode_key = (content.key, style_key, float(strength), work)
        if self._decoded is None or self._decoded[0] != decode_key:
            attended = self._attend(content, style_key, work, report, cancel)
            blended = {
                level: torch.lerp(self._content_feature(content, level, work), out, strength) if strength < 1.0 else out
                for level, out in attended.items()
            }
            check_cancel(cancel)
            report(0.8, "decoding")
            image = self.guarded(lambda: self._decode(blended, cancel))
            self._decoded = (decode_key, pixels_on_host(image, content.size, work))
        rgb = self._decoded[1]
        original = content.rgb
        if window is not None:
            top, left, bottom, right = window
            origin = (0, 0) if work is None else work[:2]
            rgb = rgb[top - origin[0] : bottom - origin[0], left - origin[1] : right - origin[1]]
            original = original[top:bottom, left:right]
        if preserve_color:
            rgb = apply_preserve_color(rgb, original)
        report(1.0, "done")
        return rgb

    def _attend(
        self,
        content: EncodedContent,
        style_key: str,
        work: Box | None,
        report: ProgressCallback,
        cancel: CancelCallback | None,
    ) -> dict[int, torch.Tensor]:
        pair = (content.key, style_key, work)
        if self._attended is not None and self._attended[0] == pair:
            return self._attended[1]
        memories = self._memories[style_key]
        attended: dict[int, torch.Tensor] = {}
        levels = self.model.levels
        for i, level in enumerate(levels):
            check_cancel(cancel)
            report(0.1 + 0.7 * i / len(levels), f"attention at relu{level}_1")
            attended[level] = self.guarded(
                lambda: self.model.attend(content.features, memories, level, self._chunk(), work)  # noqa: B023 (guarded runs it now)
            )
        self._attended = (pair, attended)
        return attended

    @staticmethod
    def _content_feature(content: EncodedContent, level: int, work: Box | None) -> torch.Tensor:
        feature = content.features.feature[level]
        return feature if work is None else under_window(feature, work, level)

    # ------------------------------------------------------------------ internals

    def _features(self, image: torch.Tensor) -> Features:
        with torch.inference_mode():
            return self.model.features(image, self._in_strips(image.shape[-2], image.shape[-1]), self._memory_format)

    def _chunk(self) -> int | None:
        return LEAN_ATTENTION_CHUNK if self.lean else None

    def _decode(self, attended: dict[int, torch.Tensor], cancel: CancelCallback | None) -> torch.Tensor:
        level, feature = next(iter(attended.items()))  # the output's size, from any level's
        height, width = (side * level_stride(level) for side in feature.shape[-2:])
        with torch.inference_mode():
            if self.lean:
                return decode_tiled(self.model, attended, LEAN_DECODER_TILE, cancel)
            if not fits_one_pass(height, width):
                return decode_tiled(self.model, attended, LARGE_DECODER_TILE, cancel)
            return self.model.decode(attended)

    def guarded(self, work: Callable[[], _Result]) -> _Result:
        """Run ``work``; on out-of-memory switch to the lower-memory path (``self.lean``) and
        run it once more. ``work`` reads ``self.lean`` to choose its path."""
        try:
            with torch.inference_mode():
                return work()
        except Exception as exc:
            if not is_out_of_memory(exc) or self.lean:
                if is_out_of_memory(exc):
                    raise StylerError(
                        f"out of memory on {self.device} even on the low-memory path", remedy="smaller_image"
                    ) from None
                raise
        self.lean = True
        self._memories_to_keep_only_current()
        release_cached_memory(self.device)
        with torch.inference_mode():
            return work()

    def _memories_to_keep_only_current(self) -> None:
        self._attended = self._decoded = None
        for key in list(self._memories):
            if key != self._style_key:
                del self._memories[key]

