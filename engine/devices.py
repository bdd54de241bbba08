"""Choosing the compute device and precision from what the user asked for and what exists."""

from __future__ import annotations

from typing import Literal

import torch

from engine.errors import StylerError

DeviceName = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def precision_name(dtype: torch.dtype) -> str:
    """The precision option that resolves to ``dtype`` (the inverse of ``resolve_dtype``)."""
    return next(name for name, known in _DTYPES.items() if known == dtype)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then the CPU; 'cuda:1' picks a GPU by index."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise StylerError(
                f"device {name!r} asked for, but no CUDA GPU is usable here (torch {torch.__version__})",
                remedy="other_device",
            )
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise StylerError(f"device {name!r}: only {torch.cuda.device_count()} CUDA GPU(s) present")
        return device
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise StylerError("device 'mps' asked for, but Apple's Metal backend is not available here", remedy="other_device")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise StylerError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps")


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    """'auto' is float32 everywhere: the released weights' logits are unscaled (no 1/√d), so
    reduced precision in QKᵀ visibly shifts the attention. bf16/fp16 are opt-in for speed."""
    if precision == "auto":
        return torch.float32
    if precision not in _DTYPES:
        raise StylerError(f"unknown precision {precision!r}; use auto, fp32, bf16 or fp16")
    dtype = _DTYPES[precision]
    if device.type == "cpu" and dtype == torch.float16:
        raise StylerError("fp16 is not supported on the CPU; use fp32 or bf16")
    return dtype


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"CUDA GPU {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory and the CPU allocator's failure to get memory."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text
    )


def release_cached_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def available_memory(device: torch.device) -> int | None:
    """Bytes a new allocation on ``device`` can get now, or None where that is unknown."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    if device.type == "cpu":
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
    return None  # MPS shares memory with the system and reports no budget
