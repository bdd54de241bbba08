"""Reading and writing photos the way a person expects.

Load: EXIF orientation applied, any mode (greyscale, palette, CMYK, 16-bit, alpha) turned
into RGB float32 in [0, 1] plus a separate alpha, the ICC profile and EXIF kept for the
output. Save: format from the suffix, alpha re-attached where the format can hold it,
metadata carried over, written atomically so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.atomic import write_atomically
from engine.errors import StylerError

# Larger images are refused before decoding: a decompression bomb can claim gigabytes.
MAX_PIXELS = 400_000_000  # e.g. 20000 × 20000
# Our own check above gives the clear message; PIL's guard stays as a backstop behind it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

FORMATS_BY_SUFFIX = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
IMAGE_SUFFIXES = frozenset(FORMATS_BY_SUFFIX)
_ALPHA_FORMATS = {"PNG", "WEBP", "TIFF"}
_EXIF_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF"}
_ORIENTATION_TAG = 0x0112


@dataclass
class LoadedImage:
    """An image ready for the engine, and what is needed to write a faithful output."""

    rgb: np.ndarray  # (H, W, 3) float32 in [0, 1], orientation already applied
    alpha: np.ndarray | None  # (H, W) float32 in [0, 1], or None
    icc_profile: bytes | None
    exif: bytes | None  # orientation reset to 1, since the pixels are already upright
    source: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.rgb.shape[1], self.rgb.shape[0]

    @cached_property
    def key(self) -> str:
        """Identity of the pixels for the engine's caches, hashed once per image (a resized
        copy is a new image with its own key)."""
        return image_key(self.rgb)


def image_key(rgb: np.ndarray) -> str:
    """Identity of an image's pixels, for cache keys."""
    digest = hashlib.blake2b(np.ascontiguousarray(rgb).view(np.uint8), digest_size=16)
    digest.update(str(rgb.shape).encode())
    return digest.hexdigest()


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def load_image(path: str | os.PathLike[str]) -> LoadedImage:
    path = Path(path)
    if not path.exists():
        raise StylerError(f"{path}: file not found")
    if path.is_dir():
        raise StylerError(f"{path}: is a folder, expected an image file")
    try:
        with Image.open(path) as img:
            _check_size(path, img.size)
            icc = img.info.get("icc_profile")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # EXIF quirks in camera files are not our problem
                upright = ImageOps.exif_transpose(img)
                exif = _upright_exif(img)
            upright.load()
            rgb, alpha = _to_float_rgb(upright)
    except StylerError:
        raise
    except UnidentifiedImageError:
        raise StylerError(f"{path}: not an image Styler can read (JPEG, PNG, WebP, BMP, TIFF)") from None
    except Image.DecompressionBombError:
        raise StylerError(f"{path}: image is too large to open safely (over {MAX_PIXELS:,} pixels)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise StylerError(f"{path}: image is damaged or truncated ({exc})") from None
    return LoadedImage(rgb=rgb, alpha=alpha, icc_profile=icc, exif=exif, source=path)


def _check_size(path: Path, size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise StylerError(f"{path}: image has no pixels ({width}×{height})")
    if width * height > MAX_PIXELS:
        raise StylerError(
            f"{path}: image is {width}×{height} ({width * height / 1e6:.0f} MP), over the "
            f"{MAX_PIXELS / 1e6:.0f} MP safety limit; downscale it first"
        )


def _upright_exif(img: Image.Image) -> bytes | None:
    exif = img.getexif()
    if not exif:
        return None
    if _ORIENTATION_TAG in exif:
        exif[_ORIENTATION_TAG] = 1
    return exif.tobytes()


def _to_float_rgb(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Any PIL mode -> (RGB float32 (H, W, 3), alpha float32 (H, W) or None)."""
    mode = img.mode
    if mode.startswith("I"):
        # 16-bit greyscale: keep its precision instead of PIL's clipping 8-bit conversion.
        # Plain "I" (32-bit) holds 16-bit data from PNG/TIFF, or 8-bit data from elsewhere.
        values = np.asarray(img, dtype=np.float32)
        full_scale = 65535.0 if mode.startswith("I;16") or values.max() > 255 else 255.0
        grey = np.clip(values / full_scale, 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2), None
    if mode == "F":
        grey = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
    converted = img.convert("RGBA" if has_alpha else "RGB")
    data = np.asarray(converted, dtype=np.float32) / 255.0
    if has_alpha:
        return np.ascontiguousarray(data[..., :3]), np.ascontiguousarray(data[..., 3])
    return data, None


def resize_to_max_side(image: LoadedImage, max_side: int | None) -> LoadedImage:
    """Cap the longer side at ``max_side`` (aspect kept); a no-op when it already fits."""
    width, height = image.size
    if not max_side or max(width, height) <= max_side:
        return image
    scale = max_side / max(width, height)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return replace(
        image,
        rgb=_resize_plane(image.rgb, new_size),
        alpha=None if image.alpha is None else _resize_plane(image.alpha, new_size),
    )


def _resize_plane(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if plane.ndim == 2:
        return np.asarray(Image.fromarray(plane, mode="F").resize(size, Image.Resampling.LANCZOS))
    channels = [_resize_plane(np.ascontiguousarray(plane[..., c]), size) for c in range(plane.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0)


def format_for(path: Path) -> str:
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS_BY_SUFFIX))
        raise StylerError(f"{path}: unknown image suffix {path.suffix!r}; use one of {known}")
    return fmt


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_image(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    quality: int = 95,
) -> Path:
    """Write RGB float (H, W, 3) in [0, 1]; atomic: a temporary file renamed into place."""
    path = Path(path)
    fmt = format_for(path)
    pixels = to_uint8(rgb)
    if alpha is not None and fmt in _ALPHA_FORMATS:
        pixels = np.concatenate([pixels, to_uint8(alpha)[..., None]], axis=2)
    img = Image.fromarray(pixels)
    options: dict[str, object] = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif and fmt in _EXIF_FORMATS:
        options["exif"] = exif
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = quality
    write_atomically(path, lambda tmp: img.save(tmp, format=fmt, **options))
    return path
