"""Process-wide caches of loaded models (CLIPSeg, SAM 2): each folder is loaded once per
device, whoever asks first, and reused by every later caller."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import torch

from engine.devices import resolve_device

Model = TypeVar("Model")


class LoadedModels(Generic[Model]):
    def __init__(self, load: Callable[[Path, torch.device], Model]) -> None:
        self._load = load
        self._loaded: dict[tuple[str, str], Model] = {}
        self._lock = threading.Lock()

    def get(self, folder: Path, device: str | torch.device = "auto") -> Model:
        """The model in ``folder`` on ``device``: loaded on first use only."""
        target = device if isinstance(device, torch.device) else resolve_device(device)
        key = (str(Path(folder).resolve()), str(target))
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._load(Path(folder), target)
            return self._loaded[key]

    def forget(self) -> None:
        """Drop the loaded models (frees their memory; the next use reloads)."""
        with self._lock:
            self._loaded.clear()
