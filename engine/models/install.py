"""Putting a model in place: from the registry (download + convert) or from disk (import).

``install(name, progress, cancel)`` and ``import_path(path)`` are what the CLI and the
GUI's first-run dialog call (see ``engine.models.store`` for the whole API). Both check
everything before anything lands in the model folder, write atomically, and record the
result (with SHA-256 of every file) in the manifest; the first style model becomes the
default. Formats on arrival:
- the AdaAttN release (zip or folder + ``vgg_normalised.pth``) -> ``<name>.safetensors``
  via ``engine.checkpoint.import_release``;
- torchvision VGG-19 ``.pth`` -> ``vgg19-imagenet.safetensors`` holding only the encoder
  layers (so the ``.pth`` is unpickled once, ``weights_only``, and never again);
- CLIPSeg -> a folder ``clipseg/`` that ``CLIPSegForImageSegmentation.from_pretrained`` loads;
- SAM 2 (transformers layout) -> a folder ``sam2/`` that ``Sam2Model.from_pretrained`` loads."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from engine.atomic import write_atomically
from engine.checkpoint import (
    RELEASE_ENCODER_FILE,
    RELEASE_FILES,
    find_release_encoder,
    import_release,
    load_model,
    load_pth_state,
)
from engine.encoder import encoder_state_from_torchvision
from engine.errors import CancelCallback, StylerError
from engine.models.archive import extract_wanted
from engine.models.download import fetch
from engine.models.folder import models_dir
from engine.models.registry import (
    ADAATTN_ZIP,
    TORCHVISION_VGG19,
    VGG_NORMALISED,
    ModelKind,
    RegistryEntry,
    get_entry,
    registry,
)
from engine.models.store import (
    REFINER_FOLDER_NAME,
    SEGMENTER_FOLDER_NAME,
    InstalledModel,
    check_model_name,
    downloads_dir,
    get_installed,
    record_install,
)
from engine.models.transfer import ProgressFn
from engine.refiner import check_refiner_folder, is_refiner_folder
from engine.segment import check_clipseg_folder

ENCODER_NAME = "vgg19-imagenet"
# What a CLIPSeg folder may hold that from_pretrained reads; anything else is left behind.
CLIPSEG_FILES = (
    "config.json", "preprocessor_config.json", "processor_config.json", "special_tokens_map.json", "tokenizer_config.json",
    "tokenizer.json", "vocab.json", "merges.txt", "model.safetensors", "pytorch_model.bin",
)
SAM2_FILES = ("config.json", "preprocessor_config.json", "processor_config.json", "model.safetensors")


# ----------------------------------------------------------------------------- download

def install(
    name: str,
    progress: ProgressFn | None = None,
    cancel: CancelCallback | None = None,
    force: bool = False,
) -> InstalledModel:
    """Download, verify, convert and record registry model ``name``.

    Already installed -> returned as is (unless ``force``). ``progress`` sees bytes over all
    of the model's files."""
    entry = get_entry(name)
    existing = get_installed(name)
    if existing is not None and existing.path.exists() and not force:
        return existing
    staging = downloads_dir(name)
    fetched: dict[str, Path] = {}
    done_before = 0
    try:
        for index, remote in enumerate(entry.files):
            later = sum(f.size or f.approx_size for f in entry.files[index + 1:])
            report = _offset_progress(progress, done_before, later)
            fetched[remote.name] = fetch(remote, staging / remote.name, report, cancel)
            done_before += fetched[remote.name].stat().st_size
    except BaseException:
        _remove_if_empty(staging)  # keep .part files (they resume), not empty folders
        raise
    try:
        return _convert(entry, fetched, staging)
    finally:
        # Converted, or refused (a bad archive must not be reused by the next attempt).
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(staging)


def _remove_if_empty(staging: Path) -> None:
    for folder in (staging, staging.parent):  # the model's, then the shared downloads folder
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _offset_progress(progress: ProgressFn | None, before: int, after: int) -> ProgressFn | None:
    if progress is None:
        return None

    def report(done: int, total: int | None, rate: float) -> None:
        progress(before + done, before + total + after if total is not None else None, rate)

    return report


def _convert(entry: RegistryEntry, fetched: dict[str, Path], staging: Path) -> InstalledModel:
    source = f"{entry.source} (downloaded)"
    if entry.kind == "style":
        return _install_release_zip(fetched[ADAATTN_ZIP], fetched[VGG_NORMALISED], entry.name, "download", source)
    if entry.kind == "encoder":
        return _install_torchvision_vgg(fetched[TORCHVISION_VGG19], entry.name, "download", source)
    if entry.kind == "refiner":
        return _install_sam2(staging, entry.name, "download", source, move=True)
    return _install_clipseg(staging, entry.name, "download", source, move=True)


# ----------------------------------------------------------------------------- import

def import_path(path: str | Path, name: str | None = None, encoder: str | Path | None = None) -> InstalledModel:
    """Install a model from disk, detecting what ``path`` is; ``path`` is never modified.

    ``encoder`` is ``vgg_normalised.pth`` for the AdaAttN release when it is neither in the
    zip/folder nor next to it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise StylerError(f"{path}: not found")
    vgg = Path(encoder).expanduser() if encoder else None
    source = f"imported from {path.resolve()}"
    if path.is_dir():
        if _is_clipseg_folder(path):
            if name not in (None, SEGMENTER_FOLDER_NAME):
                raise StylerError(f"the segmenter is always installed as {SEGMENTER_FOLDER_NAME!r}; drop --name")
            files = _check_clipseg_folder(path)  # what is wrong with the folder comes before a name clash
            return _install_folder(files, _free_name(SEGMENTER_FOLDER_NAME, "segmenter"), "segmenter", "import",
                                   source, move=False)
        if is_refiner_folder(path):
            if name not in (None, REFINER_FOLDER_NAME):
                raise StylerError(f"SAM 2 is always installed as {REFINER_FOLDER_NAME!r}; drop --name")
            return _install_sam2(path, _free_name(REFINER_FOLDER_NAME, "refiner"), "import", source, move=False)
        release = _release_folder(path)
        if release is not None:
            vgg = vgg or find_release_encoder(release) or find_release_encoder(path)
            if vgg is None:
                raise StylerError(_no_encoder_message(path))
            return _install_release_folder(release, vgg, _free_name(name or "adaattn", "style"), "import", source)
        raise StylerError(
            f"{path}: not a model folder Styler knows (expected the AdaAttN release's "
            f"{RELEASE_FILES['decoder']}, or a CLIPSeg or SAM 2 folder with config.json)"
        )
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _install_release_zip(path, vgg, _free_name(name or "adaattn", "style"), "import", source)
    if suffix == ".safetensors":
        return _import_styler_model(path, _free_name(name or path.stem, "style"), source)
    if suffix in (".pth", ".pt", ".bin"):
        return _import_pth(path, name, source)
    raise StylerError(
        f"{path}: unknown kind of file; Styler imports .safetensors models, the AdaAttN release "
        "(.zip or folder), torchvision VGG-19 .pth files, CLIPSeg and SAM 2 folders"
    )


def _free_name(name: str, kind: ModelKind) -> str:
    check_model_name(name)
    known = registry().get(name)
    if known is not None and known.kind != kind:
        # `styler models download NAME` must never find a different kind of model there.
        raise StylerError(f"{name!r} is reserved for the {known.title}; choose another name with --name")
    if get_installed(name) is not None:
        raise StylerError(
            f"a model named {name!r} is already installed; remove it first "
            f"(`styler models remove {name}`) or choose another name with --name"
        )
    return name


def _no_encoder_message(where: Path) -> str:
    return (
        f"{where}: the AdaAttN release also needs {RELEASE_ENCODER_FILE} (the VGG encoder); "
        f"download it from {get_entry('adaattn').files[1].urls[0]}, put it next to the release "
        "files, or pass --encoder PATH"
    )


def _release_folder(path: Path) -> Path | None:
    """The folder holding the release's files: ``path`` itself or one level below
    (``checkpoints/`` holds ``AdaAttN/latest_net_*.pth`` after unzipping)."""
    decoder = RELEASE_FILES["decoder"]
    if (path / decoder).is_file():
        return path
    below = [p.parent for p in path.glob(f"*/{decoder}")]
    if len(below) > 1:
        raise StylerError(f"{path}: holds several releases ({', '.join(p.name for p in below)}); import one folder")
    return below[0] if below else None


def _install_release_folder(folder: Path, vgg: Path, name: str, origin: str, source: str) -> InstalledModel:
    out = models_dir() / f"{name}.safetensors"
    import_release(folder, out, vgg)
    return _record(name, "style", out, origin, source)


def _install_release_zip(zip_path: Path, vgg: Path | None, name: str, origin: str, source: str) -> InstalledModel:
    wanted = [*RELEASE_FILES.values(), RELEASE_ENCODER_FILE]
    with tempfile.TemporaryDirectory(prefix=".unzip-", dir=_ensure_models_dir()) as tmp:
        found = extract_wanted(zip_path, Path(tmp), wanted)
        missing = [f for f in RELEASE_FILES.values() if f not in found]
        if missing:
            raise StylerError(
                f"{zip_path}: not the AdaAttN release: {', '.join(missing)} missing from the archive"
            )
        vgg = vgg or found.get(RELEASE_ENCODER_FILE) or find_release_encoder(zip_path.parent)
        if vgg is None:
            raise StylerError(_no_encoder_message(zip_path))
        return _install_release_folder(Path(tmp), vgg, name, origin, source)


def _import_styler_model(path: Path, name: str, source: str) -> InstalledModel:
    # A full load, not just the header: a truncated file must be refused here, not at render.
    load_model(path)
    out = models_dir() / f"{name}.safetensors"
    _copy_atomically(path, out)
    return _record(name, "style", out, "import", source)


def _import_pth(path: Path, name: str | None, source: str) -> InstalledModel:
    state = load_pth_state(path)
    if any(key.startswith("features.") for key in state):
        return _install_torchvision_vgg(path, _free_name(name or ENCODER_NAME, "encoder"), "import", source, state)
    if any(key.startswith(("decoder_layer_", "attn_adain_", "f.weight")) for key in state):
        raise StylerError(
            f"{path}: one file of the AdaAttN release; import the folder (or zip) holding all of "
            f"{', '.join(RELEASE_FILES.values())}"
        )
    if "0.weight" in state and tuple(state["0.weight"].shape) == (3, 3, 1, 1):
        raise StylerError(
            f"{path}: the VGG encoder of the AdaAttN release; pass it with --encoder when importing "
            "the release zip or folder"
        )
    raise StylerError(f"{path}: a weights file, but not one Styler knows (expected torchvision VGG-19 weights)")


def _install_torchvision_vgg(
    path: Path, name: str, origin: str, source: str, state: dict[str, torch.Tensor] | None = None
) -> InstalledModel:
    encoder = encoder_state_from_torchvision(state if state is not None else load_pth_state(path))
    out = models_dir() / f"{name}.safetensors"
    metadata = {"format": "styler-encoder", "encoder": "torchvision", "source": source}
    write_atomically(out, lambda tmp: save_file({k: v.contiguous() for k, v in encoder.items()}, tmp, metadata=metadata))
    return _record(name, "encoder", out, origin, source)


# ----------------------------------------------------------------------------- CLIPSeg

def _is_clipseg_folder(path: Path) -> bool:
    config = path / "config.json"
    if not config.is_file():
        return False
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("model_type") == "clipseg"
    except (OSError, ValueError, AttributeError):
        return False


def _check_clipseg_folder(path: Path) -> list[Path]:
    """The files to keep, after checking the folder is complete and its weights readable."""
    check_clipseg_folder(path)  # the same rule --segmenter applies
    weights = path / "model.safetensors"
    if weights.is_file():
        try:
            with safe_open(str(weights), framework="pt") as f:
                if not list(f.keys()):
                    raise StylerError(f"{weights}: holds no tensors")
        except (SafetensorError, OSError) as exc:
            raise StylerError(f"{weights}: damaged weights file ({exc}); copy or download it again") from None
    elif (path / "pytorch_model.bin").is_file():
        load_pth_state(path / "pytorch_model.bin")
    else:
        raise StylerError(f"{path}: no weights (model.safetensors or pytorch_model.bin)")
    keep = [path / n for n in CLIPSEG_FILES if (path / n).is_file()]
    if weights.is_file():
        keep = [p for p in keep if p.name != "pytorch_model.bin"]  # safetensors is preferred anyway
    return keep


def _install_clipseg(folder: Path, name: str, origin: str, source: str, move: bool) -> InstalledModel:
    return _install_folder(_check_clipseg_folder(folder), name, "segmenter", origin, source, move)


# ----------------------------------------------------------------------------- SAM 2

def _check_sam2_folder(path: Path) -> list[Path]:
    """The files to keep, after checking the folder is complete and its weights readable."""
    check_refiner_folder(path)
    weights = path / "model.safetensors"
    try:
        with safe_open(str(weights), framework="pt") as f:
            if not any(key.startswith("mask_decoder.") for key in f.keys()):
                raise StylerError(f"{weights}: holds no SAM 2 mask decoder; copy the whole SAM 2 folder")
    except (SafetensorError, OSError) as exc:
        raise StylerError(f"{weights}: damaged weights file ({exc}); copy or download it again") from None
    return [path / n for n in SAM2_FILES if (path / n).is_file()]


def _install_sam2(folder: Path, name: str, origin: str, source: str, move: bool) -> InstalledModel:
    return _install_folder(_check_sam2_folder(folder), name, "refiner", origin, source, move)


def _install_folder(
    files: list[Path], name: str, kind: ModelKind, origin: str, source: str, move: bool
) -> InstalledModel:
    """Put checked ``files`` into ``models_dir()/name`` in one rename, then record them."""
    target = models_dir() / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=_ensure_models_dir()))
    try:
        for f in files:
            (shutil.move if move else shutil.copy2)(f, staging / f.name)
        if target.exists():  # only reached by a forced re-download
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _record(name, kind, target, origin, source)


# ----------------------------------------------------------------------------- helpers

def _ensure_models_dir() -> Path:
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _copy_atomically(src: Path, out: Path) -> None:
    write_atomically(out, lambda tmp: shutil.copyfile(src, tmp))


def _record(name: str, kind: ModelKind, path: Path, origin: str, source: str) -> InstalledModel:
    try:
        return record_install(name, kind, path, origin, source)
    except BaseException:
        # A model the manifest does not know about must not linger half-installed.
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        raise
