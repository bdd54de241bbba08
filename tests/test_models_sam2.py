"""SAM 2 in the model manager: download from pinned files (resuming a dropped connection),
import from a folder, verify, and refusals, against a 127.0.0.1 server."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from engine import cli
from engine.errors import StylerError
from engine.models.folder import models_dir
from engine.models.install import import_path
from engine.models.registry import REGISTRY_OVERRIDE_ENV, get_entry
from engine.models.store import installed_models, refiner_installed, resolve_refiner
from engine.refiner import Refiner
from tests.local_http_server import LocalServer, Route, clear_proxy_env
from tests.tiny_sam2 import sam2_dir  # noqa: F401 (fixture)

FILES = ("config.json", "preprocessor_config.json", "processor_config.json", "model.safetensors")


def test_registry_pins_a_revision_and_names_the_licence() -> None:
    entry = get_entry("sam2")
    assert [f.name for f in entry.files] == list(FILES)
    for remote in entry.files:
        (url,) = remote.urls
        assert url.startswith("https://huggingface.co/facebook/sam2.1-hiera-tiny/resolve/")
        revision = url.split("/resolve/")[1].split("/")[0]
        assert len(revision) == 40 and int(revision, 16) >= 0  # a commit, not a branch
    assert "Apache-2.0" in entry.license and not entry.required


def test_download_resumes_installs_loads_and_verifies(
    sam2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clear_proxy_env(monkeypatch)
    with LocalServer() as server:
        override, routes = {}, {}
        for name in FILES:
            body = (sam2_dir / name).read_bytes()
            # The weights' connection drops half-way once: the download must resume, not restart.
            routes[name] = Route(body=body, drop_after=len(body) // 2 if name == "model.safetensors" else None)
            override[name] = {"urls": [server.add(f"/sam2/{name}", routes[name])], "size": len(body),
                              "sha256": hashlib.sha256(body).hexdigest()}
        (tmp_path / "override.json").write_text(json.dumps({"sam2": override}))
        monkeypatch.setenv(REGISTRY_OVERRIDE_ENV, str(tmp_path / "override.json"))
        assert not refiner_installed()
        assert cli.main(["models", "download", "sam2"]) == 0
    out = capsys.readouterr().out
    assert "licence: Apache-2.0" in out and "installed sam2" in out
    assert routes["model.safetensors"].hits == 2
    assert refiner_installed()
    folder = resolve_refiner(None)
    assert folder == models_dir() / "sam2"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    assert [m.kind for m in installed_models()] == ["refiner"]
    Refiner.from_folder(folder, "cpu")
    assert cli.main(["models", "verify"]) == 0
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert cli.main(["models", "verify"]) == 1
    assert "sam2: FAILED: sam2/model.safetensors has changed" in capsys.readouterr().out


def test_wrong_checksum_installs_nothing(sam2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxy_env(monkeypatch)
    with LocalServer() as server:
        override = {}
        for name in FILES:
            body = (sam2_dir / name).read_bytes()
            override[name] = {"urls": [server.add(f"/sam2/{name}", Route(body=body))], "size": len(body),
                              "sha256": hashlib.sha256(body + (b"x" if name == "model.safetensors" else b"")).hexdigest()}
        (tmp_path / "override.json").write_text(json.dumps({"sam2": override}))
        monkeypatch.setenv(REGISTRY_OVERRIDE_ENV, str(tmp_path / "override.json"))
        assert cli.main(["models", "download", "sam2"]) == 1
    assert installed_models() == [] and not (models_dir() / "sam2").exists()


def test_import_from_a_folder(sam2_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "sam2.1-hiera-tiny"
    shutil.copytree(sam2_dir, source)
    (source / "README.md").write_text("model card")
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    assert cli.main(["models", "import", str(source)]) == 0
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before  # the source is left as it was
    installed = resolve_refiner(None)
    assert sorted(p.name for p in installed.iterdir()) == sorted(FILES)  # the model card stays behind
    Refiner.from_folder(installed, "cpu")
    assert cli.main(["models", "list"]) == 0
    assert "sam2" in capsys.readouterr().out
    with pytest.raises(StylerError, match="already installed"):
        import_path(source)


@pytest.mark.parametrize(("damage", "message"), [
    ("preprocessor_config.json", "no image processor settings"),
    ("model.safetensors", "no weights"),
])
def test_incomplete_folder_refused(sam2_dir: Path, tmp_path: Path, damage: str, message: str) -> None:
    partial = tmp_path / "sam2"
    shutil.copytree(sam2_dir, partial)
    (partial / damage).unlink()
    with pytest.raises(StylerError, match=message):
        import_path(partial)
    assert installed_models() == [] and not (models_dir() / "sam2").exists()


def test_damaged_weights_refused(sam2_dir: Path, tmp_path: Path) -> None:
    partial = tmp_path / "sam2"
    shutil.copytree(sam2_dir, partial)
    (partial / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(StylerError, match="damaged weights"):
        import_path(partial)
    assert installed_models() == []
