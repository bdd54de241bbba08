"""The models Styler knows how to get: where from, how big, which checksum, which licence.

Every checksum here was read off a published record; none was guessed. Where no record
exists the field is ``None`` and the install relies on the format checks instead:
- ``adaattn``: the authors publish their zip only on Google Drive and no SHA-256 of it is
  published anywhere we could find; the zip is checked by opening it safely and converting
  its tensors (every shape must match the released architecture).
- ``vgg_normalised.pth``: SHA-256 ``804ca283…bb4a`` (80,102,481 bytes), recorded by several
  independent projects for the asset of pytorch-AdaIN's GitHub release ``v0.0.0``.
- ``vgg19-imagenet``: torchvision names the file after the first 8 hex digits of its SHA-256
  (``dcbb9e9d``) and ``torch.hub`` checks only that prefix; the full digest is not published.
- ``sam2``: files at the pinned Hub revision ``de431c40…01a5`` of facebook/sam2.1-hiera-tiny
  ("Add Transformers weights (#1)", its ``main`` when transformers' SAM 2 files were
  added). No SHA-256 of these transformers-format files is published that we could find
  (only of the original ``sam2.1_hiera_tiny.pt``, which is a different file); the pinned
  commit fixes the bytes, the folder is checked by loading it, and ``styler models verify``
  re-hashes what was installed.
- ``clipseg``: files at the pinned Hub revision ``999e0328…7050`` (its ``main`` since 2022),
  sizes and SHA-256 as recorded in a published snapshot manifest of that revision; the
  weights' digest also matches a second independent record.

Tests (and mirrors) may point the URLs elsewhere with ``STYLER_REGISTRY_OVERRIDE``: a JSON
file ``{"<model>": {"<file name>": {"urls": [...], "sha256": ..., "size": ...}}}``. Only the
addresses and checks of the files change; the code path is the user's."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from engine.errors import StylerError
from engine.models.folder import models_dir

ModelKind = Literal["style", "encoder", "segmenter", "refiner"]

REGISTRY_OVERRIDE_ENV = "STYLER_REGISTRY_OVERRIDE"

MB = 1_000_000


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch. ``urls`` are mirrors of the same bytes, tried in order."""

    name: str
    urls: tuple[str, ...]
    approx_size: int
    size: int | None = None  # exact byte count, where published
    sha256: str | None = None
    sha256_prefix: str | None = None  # only the first hex digits are published


@dataclass(frozen=True)
class RegistryEntry:
    name: str
    kind: ModelKind
    title: str
    files: tuple[RemoteFile, ...]
    install_name: str  # file or folder under models_dir()
    installed_size: int  # approximate bytes on disk once installed
    license: str
    source: str  # human-readable origin (paper, repository, revision)
    manual: str  # how to get it without Styler's downloader
    required: bool = False  # the first-run dialog offers every required model
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def download_size(self) -> int:
        return sum(f.size or f.approx_size for f in self.files)

    def local_path(self) -> Path:
        return models_dir() / self.install_name


def human_size(n: int | float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


_ADAATTN_ZIP_DRIVE_ID = "1XvpD1eI4JeCBIaW5uwMT6ojF_qlzM_lo"  # Huage001/AdaAttN README
_VGG_NORMALISED_DRIVE_ID = "1BinnwM5AmIcVubr16tPTqxMjUCE8iu5M"  # same README, "Train" section
_VGG_NORMALISED_RELEASE = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/vgg_normalised.pth"
_TORCHVISION_VGG19 = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
CLIPSEG_REPO = "CIDAS/clipseg-rd64-refined"
CLIPSEG_REVISION = "999e0328d9e10b484360c477313983f9afdd7050"


def drive_url(file_id: str) -> str:
    return f"https://drive.google.com/uc?export=download&id={file_id}"


SAM2_REPO = "facebook/sam2.1-hiera-tiny"
SAM2_REVISION = "de431c4043854a71d8101e17995dfe596bf101a5"


def _hub_file(name: str, size: int, sha256: str) -> RemoteFile:
    url = f"https://huggingface.co/{CLIPSEG_REPO}/resolve/{CLIPSEG_REVISION}/{name}"
    return RemoteFile(name=name, urls=(url,), approx_size=size, size=size, sha256=sha256)


def _sam2_file(name: str, approx_size: int) -> RemoteFile:
    url = f"https://huggingface.co/{SAM2_REPO}/resolve/{SAM2_REVISION}/{name}"
    return RemoteFile(name=name, urls=(url,), approx_size=approx_size)


ADAATTN_ZIP = "AdaAttN_model.zip"
VGG_NORMALISED = "vgg_normalised.pth"
TORCHVISION_VGG19 = "vgg19-dcbb9e9d.pth"

_ENTRIES = (
    RegistryEntry(
        name="adaattn",
        kind="style",
        title="AdaAttN (released model)",
        files=(
            RemoteFile(ADAATTN_ZIP, (drive_url(_ADAATTN_ZIP_DRIVE_ID),), approx_size=50 * MB),
            RemoteFile(
                VGG_NORMALISED, (_VGG_NORMALISED_RELEASE,), approx_size=80_102_481, size=80_102_481,
                sha256="804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a",
            ),
        ),
        install_name="adaattn.safetensors",
        installed_size=106 * MB,
        license="AdaAttN weights: published by the authors for research, no licence file in "
        "Huage001/AdaAttN; vgg_normalised.pth: MIT (pytorch-AdaIN)",
        source="Liu et al., AdaAttN (ICCV 2021), github.com/Huage001/AdaAttN; encoder from "
        "AdaIN (Huang & Belongie 2017) via github.com/naoto0804/pytorch-AdaIN",
        manual=(
            f"download {ADAATTN_ZIP} from https://drive.google.com/file/d/{_ADAATTN_ZIP_DRIVE_ID}/view "
            f"and {VGG_NORMALISED} from {_VGG_NORMALISED_RELEASE} (or "
            f"https://drive.google.com/file/d/{_VGG_NORMALISED_DRIVE_ID}/view), put both in one "
            f"folder and run `styler models import {ADAATTN_ZIP}`"
        ),
        required=True,
        notes=("converted on arrival into Styler's .safetensors format",),
    ),
    RegistryEntry(
        name="vgg19-imagenet",
        kind="encoder",
        title="VGG-19 ImageNet encoder (torchvision)",
        files=(
            RemoteFile(TORCHVISION_VGG19, (_TORCHVISION_VGG19,), approx_size=575 * MB, sha256_prefix="dcbb9e9d"),
        ),
        install_name="vgg19-imagenet.safetensors",
        installed_size=52 * MB,
        license="BSD-3-Clause (torchvision); VGG weights by Simonyan & Zisserman, CC BY 4.0",
        source=f"torchvision VGG19_Weights.IMAGENET1K_V1, {_TORCHVISION_VGG19}",
        manual=f"download {_TORCHVISION_VGG19} and run `styler models import {TORCHVISION_VGG19}`",
        notes=("only the layers up to relu5_1 are kept (the classifier is dropped), as .safetensors",
               "needed only to train a model with the torchvision encoder"),
    ),
    RegistryEntry(
        name="clipseg",
        kind="segmenter",
        title="CLIPSeg rd64-refined (text-prompted masks)",
        files=(
            _hub_file("config.json", 4_732, "c023375966d31b3b1392764f7bd91df47098ce19f62f11b0263d8eedcf708bcd"),
            _hub_file("preprocessor_config.json", 380,
                      "4fb09ebcfd7651205ca8299b993c30088e5535ef350a72d46c5c4580eeac0440"),
            _hub_file("special_tokens_map.json", 472,
                      "c4864a9376a8401918425bed71fc14fc0e81f9b59ec45c1cf96cccb2df508eac"),
            _hub_file("tokenizer_config.json", 974,
                      "4c75d57fd9bd0be8478ad2d6f8b9cebdd4a45338eb108547329c2b6333476ca6"),
            _hub_file("vocab.json", 1_059_962, "e089ad92ba36837a0d31433e555c8f45fe601ab5c221d4f607ded32d9f7a4349"),
            _hub_file("merges.txt", 524_619, "9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a"),
            _hub_file("model.safetensors", 603_049_496,
                      "d00ca85d6b859f9d07b7cfb8ef26fe9771cb275b34c9368f2ecf603139307f55"),
        ),
        install_name="clipseg",
        installed_size=605 * MB,
        license="Apache-2.0 (Hugging Face model card of CIDAS/clipseg-rd64-refined)",
        source=f"Lüddecke & Ecker, CLIPSeg (CVPR 2022), huggingface.co/{CLIPSEG_REPO} at {CLIPSEG_REVISION}",
        manual=(
            f"copy the folder of {CLIPSEG_REPO} (config.json, preprocessor_config.json, tokenizer "
            "files, model.safetensors) from a machine with access, e.g. "
            f"`huggingface-cli download {CLIPSEG_REPO} --local-dir clipseg`, then run "
            "`styler models import clipseg`"
        ),
        required=True,
    ),
    RegistryEntry(
        name="sam2",
        kind="refiner",
        title="SAM 2.1 Hiera-Tiny (precise region outlines, click to select)",
        files=(
            _sam2_file("config.json", 7_000),
            _sam2_file("preprocessor_config.json", 600),
            _sam2_file("processor_config.json", 95),
            _sam2_file("model.safetensors", 156 * MB),
        ),
        install_name="sam2",
        installed_size=156 * MB,
        license="Apache-2.0 (Hugging Face model card of facebook/sam2.1-hiera-tiny; SAM 2 by Meta)",
        source=f"Ravi et al., SAM 2 (2024), huggingface.co/{SAM2_REPO} at {SAM2_REVISION}",
        manual=(
            f"copy the folder of {SAM2_REPO} (config.json, preprocessor_config.json, "
            "model.safetensors) from a machine with access, e.g. "
            f"`huggingface-cli download {SAM2_REPO} --revision {SAM2_REVISION} --local-dir sam2`, "
            "then run `styler models import sam2`"
        ),
        notes=("optional: without it regions are CLIPSeg's map, as before",
               "SHA-256 of these files is not published; recorded at install and checked by verify"),
    ),
)


def _apply_override(entries: dict[str, RegistryEntry], path: Path) -> dict[str, RegistryEntry]:
    try:
        override = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StylerError(f"{path}: registry override ({REGISTRY_OVERRIDE_ENV}) is unreadable ({exc})") from None
    for model, files in override.items():
        if model not in entries:
            raise StylerError(f"{path}: registry override names unknown model {model!r}")
        by_name = {f.name: f for f in entries[model].files}
        for file_name, changes in files.items():
            if file_name not in by_name:
                raise StylerError(f"{path}: model {model!r} has no file {file_name!r}")
            changes = dict(changes)
            if "urls" in changes:
                changes["urls"] = tuple(changes["urls"])
            try:
                by_name[file_name] = replace(by_name[file_name], **changes)
            except TypeError as exc:
                raise StylerError(f"{path}: bad override for {model}/{file_name} ({exc})") from None
        entries[model] = replace(entries[model], files=tuple(by_name[f.name] for f in entries[model].files))
    return entries


def registry() -> dict[str, RegistryEntry]:
    """Name -> entry, with ``STYLER_REGISTRY_OVERRIDE`` applied when set."""
    entries = {e.name: e for e in _ENTRIES}
    override = os.environ.get(REGISTRY_OVERRIDE_ENV)
    return _apply_override(entries, Path(override)) if override else entries


def get_entry(name: str) -> RegistryEntry:
    entries = registry()
    if name not in entries:
        raise StylerError(f"unknown model {name!r}; Styler can download: {', '.join(entries)}")
    return entries[name]
