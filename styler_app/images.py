"""Converting the engine's float arrays to Qt images and back (no torch here)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) float in [0, 1] -> an RGB888 QImage that owns its pixels."""
    pixels = np.ascontiguousarray(np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8))
    h, w = pixels.shape[:2]
    # QImage only borrows the buffer; copy() detaches it before ``pixels`` goes away.
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def mask_to_qimage(mask: np.ndarray) -> QImage:
    """(H, W) float in [0, 1] -> Grayscale8 QImage (the brush paints on this)."""
    pixels = np.ascontiguousarray(np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8))
    h, w = pixels.shape
    return QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def qimage_to_mask(image: QImage) -> np.ndarray:
    """Grayscale8 QImage -> (H, W) float32 in [0, 1]."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = gray.width(), gray.height(), gray.bytesPerLine()
    rows = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, :w].astype(np.float32) / 255.0


def read_scaled(path: str, longest: int) -> QImage:
    """Decode only as many pixels as a thumbnail needs (JPEG decoders scale while reading)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # EXIF orientation, like the engine's loader
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > longest:
        reader.setScaledSize(size.scaled(QSize(longest, longest), Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()
