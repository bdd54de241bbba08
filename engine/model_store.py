"""Finding the style model a command should use."""

from __future__ import annotations

from pathlib import Path

from engine.errors import StylerError
from engine.paths import models_dir

DEFAULT_MODEL_NAME = "adaattn"


def resolve_style_model(name_or_path: str | None) -> Path:
    """``--model`` as given (a file path or an installed model's name), or the default."""
    if name_or_path:
        candidate = Path(name_or_path).expanduser()
        if candidate.suffix == ".safetensors" or candidate.exists() or "/" in name_or_path:
            if not candidate.exists():
                raise StylerError(f"{candidate}: model file not found")
            return candidate
        installed = models_dir() / f"{name_or_path}.safetensors"
        if installed.exists():
            return installed
        raise StylerError(f"no installed model named {name_or_path!r} (looked for {installed})")
    default = models_dir() / f"{DEFAULT_MODEL_NAME}.safetensors"
    if default.exists():
        return default
    raise StylerError(
        f"no style model installed (looked for {default}); get the released AdaAttN model with "
        "`styler models import-adaattn DIR -o MODEL.safetensors` and pass --model, or install "
        f"it as {default}"
    )


SEGMENTER_FOLDER_NAME = "clipseg"


def resolve_segmenter(folder: str | None) -> Path:
    """``--segmenter`` as given (a local CLIPSeg folder), or the installed one."""
    if folder:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise StylerError(f"{path}: segmenter folder not found (expected a CLIPSeg model folder)")
        return path
    installed = models_dir() / SEGMENTER_FOLDER_NAME
    if installed.is_dir():
        return installed
    raise StylerError(
        f"no CLIPSeg segmenter installed (looked for {installed}); prompts need it: "
        "`styler models download clipseg`, or pass --segmenter FOLDER with a local copy"
    )
