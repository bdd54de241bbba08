"""What outputs are called: the name template of ``styler batch --name`` and the app's
saves, the slugs that fill it, and where a mask is saved beside its output. Torch-free, so
the app's GUI thread uses the same functions as the engine."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from engine.errors import StylerError
from engine.image_files import IMAGE_SUFFIXES

TEMPLATE_FIELDS = ("stem", "ext", "style", "prompt", "index")
_SLUG_LIMIT = 60
# The longest file name (not path) ext4, APFS, NTFS and most others accept.
_NAME_MAX_BYTES = 255


def check_file_name(path: Path) -> None:
    """Refuse an output whose file name no file system accepts, before any work."""
    size = len(os.fsencode(path.name))
    if size > _NAME_MAX_BYTES:
        raise StylerError(f"{path.name[:40]}…: a file name of {size} bytes; file systems allow {_NAME_MAX_BYTES}")


class NameTemplateError(StylerError):
    """A name template that cannot name files (unknown field, bad syntax, a path)."""


def mask_path_for(output: Path) -> Path:
    """Where a render's mask is saved: ``<output stem>.mask.png`` beside the output."""
    return output.with_name(f"{output.stem}.mask.png")


def slugify(text: str) -> str:
    """'Starry Night (1889)!' -> 'starry-night-1889': safe in a file name on every system."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:_SLUG_LIMIT].rstrip("-")


def prompt_slug(prompts: Iterable[str], invert: bool = False) -> str:
    """The {prompt} field: the prompts' slugs joined by '_', 'all' without a region."""
    slug = "_".join(s for s in (slugify(p) for p in prompts) if s)[:_SLUG_LIMIT].rstrip("_-")
    if not slug:
        return "all"
    return f"not-{slug}" if invert else slug


def output_suffix(source: Path, fmt: str) -> str:
    if fmt == "keep":
        return source.suffix
    return f".{fmt}"


def render_name(template: str, fields: dict[str, object]) -> str:
    """The output file name for one input; an image suffix is appended when the template
    does not end in one, so '{stem}_styled' still writes a file the format is known for."""
    try:
        name = template.format(**fields)
    except KeyError as exc:
        known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
        raise NameTemplateError(f"name template {template!r}: unknown field {{{exc.args[0]}}}; use {known}") from None
    except (IndexError, ValueError) as exc:
        raise NameTemplateError(f"name template {template!r}: not a valid template ({exc})") from None
    if "/" in name or "\\" in name or name in ("", ".", "..") or name.startswith("."):
        raise NameTemplateError(
            f"name template {template!r} gives {name!r}: a name must be a plain, visible file name "
            "(sub-folders are mirrored from the input folder)"
        )
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        name += str(fields["ext"])
    if len(os.fsencode(name)) > _NAME_MAX_BYTES:
        raise NameTemplateError(
            f"name template {template!r} gives a name of {len(os.fsencode(name))} bytes ({name[:40]}…); "
            f"file systems allow {_NAME_MAX_BYTES}: use a shorter template"
        )
    return name


def output_name(
    template: str,
    source: Path,
    style: Path,
    prompts: Iterable[str] = (),
    invert: bool = False,
    index: int = 1,
    fmt: str = "keep",
) -> str:
    """The file name one input's result gets: the same for ``styler batch --name`` and the
    app's saves (the style and the prompts slugified, ``not-`` for an inverted region)."""
    fields = {
        "style": slugify(style.stem) or "style",
        "prompt": prompt_slug(prompts, invert),
        "stem": source.stem,
        "ext": output_suffix(source, fmt),
        "index": index,
    }
    return render_name(template, fields)


def check_name_template(template: str) -> None:
    """NameTemplateError unless ``template`` names files (known fields, valid syntax, no
    path): checked on a sample before any work, as every field is filled for every file."""
    output_name(template, Path("photo.jpg"), Path("style.png"))
