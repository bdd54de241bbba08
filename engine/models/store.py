"""What is installed under ``models_dir()``, which style model is the default, and where a
command finds the model it needs.

``<models_dir>/manifest.json`` records every installed model: kind, path, where it came from,
and the size and SHA-256 of each of its files at install time (``verify`` re-hashes them).
The default style model is a user setting (``engine.user_settings``).

API for the GUI's first-run dialog (Qt-free; call it from a worker thread):
- ``missing_required_models() -> list[RegistryEntry]``: what to offer (name, title,
  ``download_size``, ``license``, ``manual`` instructions for an offline machine).
- ``engine.models.install.install(name, progress, cancel) -> InstalledModel``: download,
  verify, convert and record; ``progress(bytes_done, bytes_total, bytes_per_s)``,
  ``cancel() -> bool`` polled between chunks (raises ``engine.errors.Cancelled``; the
  partial download is kept and resumed next time).
- ``engine.models.install.import_path(path) -> InstalledModel``: the "Import from disk…"
  button; detects a Styler model, the release zip or folder, a CLIPSeg folder, torchvision
  VGG-19 weights.
- ``installed_models()``, ``default_style_model()``, ``set_default_model(name)``,
  ``remove_model(name)``, ``verify_models()`` for a model-management page.
Every failure is a one-line ``StylerError``."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.atomic import write_atomically
from engine.errors import StylerError
from engine.models.checksum import sha256_of
from engine.models.folder import models_dir
from engine.models.registry import ModelKind, RegistryEntry, get_entry, human_size, registry
from engine.user_settings import DEFAULT_MODEL, get_setting, set_setting

DEFAULT_MODEL_NAME = "adaattn"  # what a fresh install offers as the style model
SEGMENTER_FOLDER_NAME = "clipseg"
REFINER_FOLDER_NAME = "sam2"
MANIFEST_NAME = "manifest.json"
DOWNLOADS_FOLDER = ".downloads"  # partial and not-yet-converted downloads, per model
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class InstalledModel:
    name: str
    kind: ModelKind
    path: Path
    files: dict[str, dict[str, Any]]  # path relative to models_dir -> {"size", "sha256"}
    origin: str  # "download" or "import"
    source: str
    installed_at: str

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in self.files.values())


@dataclass(frozen=True)
class VerifyResult:
    name: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_model_name(name: str) -> str:
    if not _NAME_PATTERN.match(name):
        raise StylerError(
            f"{name!r} is not a usable model name: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return name


# ----------------------------------------------------------------------------- manifest

def manifest_path() -> Path:
    return models_dir() / MANIFEST_NAME


def _read_manifest() -> dict[str, dict[str, Any]]:
    path = manifest_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data["models"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StylerError(
            f"{path}: model manifest is unreadable ({exc}); delete it and re-import or re-download "
            "your models"
        ) from None


def _write_manifest(models: dict[str, dict[str, Any]]) -> None:
    payload = json.dumps({"format": "styler-models", "version": 1, "models": models}, indent=2, sort_keys=True)
    write_atomically(manifest_path(), lambda tmp: Path(tmp).write_text(payload + "\n", encoding="utf-8"))


def _from_record(name: str, record: dict[str, Any]) -> InstalledModel:
    return InstalledModel(
        name=name,
        kind=record["kind"],
        path=models_dir() / record["path"],
        files=record["files"],
        origin=record.get("origin", ""),
        source=record.get("source", ""),
        installed_at=record.get("installed_at", ""),
    )


def _hash_files(path: Path) -> dict[str, dict[str, Any]]:
    root = models_dir()
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return {p.relative_to(root).as_posix(): {"size": p.stat().st_size, "sha256": sha256_of(p)} for p in paths}


def record_install(name: str, kind: ModelKind, path: Path, origin: str, source: str) -> InstalledModel:
    """Add a model that now sits at ``path`` (inside models_dir) to the manifest; the first
    style model recorded becomes the default."""
    models = _read_manifest()
    models[name] = {
        "kind": kind,
        "path": path.relative_to(models_dir()).as_posix(),
        "files": _hash_files(path),
        "origin": origin,
        "source": source,
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_manifest(models)
    if kind == "style" and default_style_model() is None:
        set_setting(DEFAULT_MODEL, name)
    return _from_record(name, models[name])


# ----------------------------------------------------------------------------- queries

def installed_models() -> list[InstalledModel]:
    return [_from_record(name, record) for name, record in sorted(_read_manifest().items())]


def get_installed(name: str) -> InstalledModel | None:
    record = _read_manifest().get(name)
    return _from_record(name, record) if record else None


def default_style_model() -> str | None:
    """The style model commands use without ``--model``, if it is still installed."""
    name = get_setting(DEFAULT_MODEL)
    model = get_installed(name) if isinstance(name, str) else None
    return name if model is not None and model.kind == "style" else None


def set_default_model(name: str) -> None:
    model = get_installed(name)
    if model is None:
        styles = [m.name for m in installed_models() if m.kind == "style"]
        raise StylerError(
            f"no installed model named {name!r}; installed style models: {', '.join(styles) or 'none'}"
        )
    if model.kind != "style":
        raise StylerError(f"{name!r} is a {model.kind} model; only a style model can be the default")
    set_setting(DEFAULT_MODEL, name)


def missing_required_models() -> list[RegistryEntry]:
    """What the first-run dialog should offer: a style model (when none is installed at all)
    and the segmenter."""
    installed = installed_models()
    entries = registry()
    missing = []
    # Models placed by hand (not in the manifest) still count: the resolvers accept them.
    has_style = any(m.kind == "style" for m in installed) or entries[DEFAULT_MODEL_NAME].local_path().is_file()
    if not has_style:
        missing.append(entries[DEFAULT_MODEL_NAME])
    has_segmenter = any(m.kind == "segmenter" for m in installed) or entries[SEGMENTER_FOLDER_NAME].local_path().is_dir()
    if not has_segmenter:
        missing.append(entries[SEGMENTER_FOLDER_NAME])
    return missing


def missing_message(entry: RegistryEntry, what: str) -> str:
    """The offline-friendly error: which model, how big, and the two ways to get it."""
    return (
        f"{what}: {entry.title} ({entry.name!r}, about {human_size(entry.download_size)} to download) "
        f"is not installed; get it with `styler models download {entry.name}`, or on a machine "
        f"without internet access: {entry.manual}"
    )


# ----------------------------------------------------------------------------- resolving

def resolve_style_model(name_or_path: str | None) -> Path:
    """``--model`` as given (a file path or an installed model's name), or the default."""
    if name_or_path:
        candidate = Path(name_or_path).expanduser()
        if candidate.suffix == ".safetensors" or candidate.exists() or "/" in name_or_path:
            if not candidate.exists():
                raise StylerError(f"{candidate}: model file not found")
            return candidate
        model = get_installed(name_or_path)
        if model is not None:
            if model.kind != "style":
                raise StylerError(f"{name_or_path!r} is a {model.kind} model, not a style model")
            return _existing(model)
        loose = models_dir() / f"{name_or_path}.safetensors"
        if loose.exists():
            return loose
        if name_or_path in registry() and registry()[name_or_path].kind == "style":
            raise StylerError(missing_message(registry()[name_or_path], f"--model {name_or_path}"))
        styles = [m.name for m in installed_models() if m.kind == "style"]
        raise StylerError(
            f"no installed model named {name_or_path!r} (installed: {', '.join(styles) or 'none'}); "
            "see `styler models list`"
        )
    default = default_style_model()
    installed = get_installed(default) if default is not None else None
    if installed is not None:
        return _existing(installed)
    legacy = models_dir() / f"{DEFAULT_MODEL_NAME}.safetensors"
    if legacy.exists():  # placed by hand: use it rather than refuse
        return legacy
    raise StylerError(missing_message(registry()[DEFAULT_MODEL_NAME], "no style model"))


def resolve_segmenter(folder: str | None) -> Path:
    """``--segmenter`` as given (a local CLIPSeg folder), or the installed one."""
    return _resolve_folder(
        folder, SEGMENTER_FOLDER_NAME, "segmenter folder not found (expected a CLIPSeg model folder)", "prompts need the segmenter"
    )


def refiner_installed() -> bool:
    """Whether SAM 2 is there: ``--refine`` defaults to ``sam`` then."""
    model = get_installed(REFINER_FOLDER_NAME)
    return (model is not None and model.path.is_dir()) or (models_dir() / REFINER_FOLDER_NAME).is_dir()


def resolve_refiner(folder: str | None) -> Path:
    """``--refiner-model`` as given (a local SAM 2 folder), or the installed one."""
    return _resolve_folder(folder, REFINER_FOLDER_NAME, "SAM 2 folder not found", "--refine sam needs SAM 2")


def _resolve_folder(folder: str | None, name: str, not_found: str, needed_for: str) -> Path:
    """A model folder named on the command line, else the installed model ``name`` (as the
    manifest records it, or a folder of that name placed by hand)."""
    if folder:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise StylerError(f"{path}: {not_found}")
        return path
    model = get_installed(name)
    if model is not None:
        return _existing(model)
    installed = models_dir() / name
    if installed.is_dir():
        return installed
    raise StylerError(missing_message(registry()[name], needed_for))


def resolve_encoder_weights(name: str = "vgg19-imagenet") -> Path:
    """The installed torchvision VGG-19 encoder: a .safetensors file holding
    ``VGGEncoder("torchvision").state_dict()`` (load with ``safetensors.torch.load_file``)."""
    model = get_installed(name)
    if model is None:
        raise StylerError(missing_message(get_entry(name), "training with the torchvision encoder"))
    return _existing(model)


def _existing(model: InstalledModel) -> Path:
    if not model.path.exists():
        raise StylerError(
            f"{model.path}: model {model.name!r} is recorded as installed but its files are gone; "
            f"run `styler models remove {model.name}` and install it again"
        )
    return model.path


# ----------------------------------------------------------------------------- changes

def remove_model(name: str) -> InstalledModel:
    """Delete an installed model's files and record; a new default is picked if needed."""
    models = _read_manifest()
    if name not in models:
        raise StylerError(f"no installed model named {name!r}; see `styler models list`")
    model = _from_record(name, models[name])
    if model.path.is_dir():
        shutil.rmtree(model.path)
    else:
        model.path.unlink(missing_ok=True)
    shutil.rmtree(downloads_dir(name), ignore_errors=True)
    del models[name]
    _write_manifest(models)
    if get_setting(DEFAULT_MODEL) == name:
        others = sorted(n for n, r in models.items() if r["kind"] == "style")
        set_setting(DEFAULT_MODEL, others[0] if others else None)
    return model


def verify_models() -> list[VerifyResult]:
    """Re-hash every installed file and compare with what was recorded at install time."""
    results = []
    root = models_dir()
    for model in installed_models():
        problems = []
        for rel, expected in model.files.items():
            path = root / rel
            if not path.is_file():
                problems.append(f"{rel} is missing")
            elif path.stat().st_size != expected["size"]:
                problems.append(f"{rel} is {path.stat().st_size} bytes, expected {expected['size']}")
            elif sha256_of(path) != expected["sha256"]:
                problems.append(f"{rel} has changed (SHA-256 differs)")
        results.append(VerifyResult(model.name, tuple(problems)))
    return results


def downloads_dir(name: str) -> Path:
    return models_dir() / DOWNLOADS_FOLDER / name
