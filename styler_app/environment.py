"""What the engine runs on: versions, devices, folders. Called in the worker thread (it
imports torch); the GUI shows the dict in the System info dialog and the settings."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any


def engine_environment() -> dict[str, Any]:
    import torch

    from engine import __version__
    from engine.models.folder import models_dir
    from engine.paths import styler_home

    cuda = torch.cuda.is_available()
    devices: list[tuple[str, str]] = []
    if cuda:
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append((f"cuda:{index}", f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"))
    if torch.backends.mps.is_available():
        devices.append(("mps", "Apple GPU (MPS)"))
    devices.append(("cpu", f"CPU ({torch.get_num_threads()} threads)"))
    return {
        "styler": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda or "none",
        "cudnn": str(torch.backends.cudnn.version()) if cuda else "none",
        "devices": devices,
        "styler_home": str(styler_home()),
        "models_dir": str(models_dir()),
    }


def process_memory_mib() -> float | None:
    """Resident memory of this process, where the OS tells us cheaply (Linux)."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    import os

    pages = int(statm.read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
