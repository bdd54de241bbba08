"""Installing the AdaAttN release end to end from a local server, and the first-run API."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from engine import cli
from engine.errors import StylerError
from engine.models.folder import models_dir
from engine.models.install import install
from engine.models.registry import REGISTRY_OVERRIDE_ENV
from engine.models.store import (
    default_style_model,
    installed_models,
    manifest_path,
    missing_required_models,
    resolve_style_model,
)
from tests.local_http_server import QUOTA_PAGE, LocalServer, Route, clear_proxy_env

RELEASE_NAMES = ("latest_net_decoder.pth", "latest_net_transformer.pth", "latest_net_adaattn_3.pth")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    clear_proxy_env(monkeypatch)
    with LocalServer() as s:
        yield s


def release_zip(release_dir: Path, out: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """The authors' layout: AdaAttN/latest_net_*.pth (stored, not deflated: fast)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in RELEASE_NAMES:
            zf.write(release_dir / name, f"AdaAttN/{name}")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.read_bytes()


def serve_adaattn(server: LocalServer, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  zip_body: bytes | None = None, vgg_sha: str | None = None) -> None:
    """Point the registry's adaattn files at the local server (the user's code path otherwise)."""
    zip_body = zip_body if zip_body is not None else release_zip(release_dir, tmp_path / "AdaAttN_model.zip")
    vgg = (release_dir.parent / "vgg_normalised.pth").read_bytes()
    zip_url = server.add("/uc", Route(body=zip_body))
    vgg_url = server.add("/vgg_normalised.pth", Route(body=vgg))
    override = {"adaattn": {
        "AdaAttN_model.zip": {"urls": [zip_url], "approx_size": len(zip_body)},
        "vgg_normalised.pth": {"urls": [vgg_url], "size": len(vgg),
                               "sha256": vgg_sha or hashlib.sha256(vgg).hexdigest()},
    }}
    path = tmp_path / "registry-override.json"
    path.write_text(json.dumps(override))
    monkeypatch.setenv(REGISTRY_OVERRIDE_ENV, str(path))


def write_photo(path: Path, size: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path)
    return path


def assert_nothing_installed() -> None:
    assert installed_models() == []
    assert not list(models_dir().glob("*.safetensors"))
    assert default_style_model() is None


def test_download_adaattn_end_to_end_then_stylize(
    server: LocalServer, release_dir: Path, model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_adaattn(server, release_dir, tmp_path, monkeypatch)
    assert [e.name for e in missing_required_models()] == ["adaattn", "clipseg"]

    assert cli.main(["models", "download", "adaattn"]) == 0
    installed = models_dir() / "adaattn.safetensors"
    assert "installed adaattn" in capsys.readouterr().out
    # Same tensors as converting the release folder directly.
    ours, reference = load_file(installed), load_file(model_path)
    assert ours.keys() == reference.keys()
    assert all((ours[k] == reference[k]).all() for k in ours)
    assert default_style_model() == "adaattn"
    assert resolve_style_model(None) == installed
    assert [e.name for e in missing_required_models()] == ["clipseg"]
    assert not (models_dir() / ".downloads" / "adaattn").exists()
    record = json.loads(manifest_path().read_text())["models"]["adaattn"]
    assert record["files"]["adaattn.safetensors"]["sha256"] == hashlib.sha256(installed.read_bytes()).hexdigest()

    assert cli.main(["models", "list"]) == 0
    assert "* adaattn" in capsys.readouterr().out
    assert cli.main(["models", "verify"]) == 0

    content = write_photo(tmp_path / "content.png", 48, seed=1)
    style = write_photo(tmp_path / "style.png", 48, seed=2)
    out = tmp_path / "out.png"
    assert cli.main(["stylize", str(content), "--style", str(style), "--style-size", "48", "-o", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size == (48, 48)


def test_install_progress_spans_all_files(
    server: LocalServer, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_adaattn(server, release_dir, tmp_path, monkeypatch)
    calls: list[tuple[int, int | None, float]] = []
    install("adaattn", progress=lambda *a: calls.append(a))
    done = [c[0] for c in calls]
    assert done == sorted(done)
    assert calls[-1][0] == calls[-1][1]  # ends at 100 %
    assert calls[-1][0] >= (release_dir.parent / "vgg_normalised.pth").stat().st_size


def test_wrong_checksum_installs_nothing(
    server: LocalServer, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_adaattn(server, release_dir, tmp_path, monkeypatch, vgg_sha="1" * 64)
    with pytest.raises(StylerError, match="SHA-256"):
        install("adaattn")
    assert_nothing_installed()
    assert not list(models_dir().rglob("vgg_normalised.pth*"))


def test_quota_page_instead_of_zip_installs_nothing(
    server: LocalServer, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_adaattn(server, release_dir, tmp_path, monkeypatch)
    server.routes["/uc"] = Route(body=QUOTA_PAGE, content_type="text/html")
    assert cli.main(["models", "download", "adaattn"]) == 1
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("styler: error:") and "Google Drive refuses" in last_line
    assert_nothing_installed()
    assert not (models_dir() / ".downloads").exists()  # no page saved as if it were the zip


def test_zip_slip_archive_refused(
    server: LocalServer, release_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = release_zip(release_dir, tmp_path / "evil.zip", extra={"../../../evil.pth": b"boom"})
    serve_adaattn(server, release_dir, tmp_path, monkeypatch, zip_body=body)
    with pytest.raises(StylerError, match="refused"):
        install("adaattn")
    assert_nothing_installed()
    assert not list(tmp_path.rglob("evil.pth"))


def test_missing_model_says_which_how_big_and_both_ways(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(StylerError) as err:
        resolve_style_model(None)
    message = str(err.value)
    assert "'adaattn'" in message and "MB" in message
    assert "styler models download adaattn" in message and "styler models import" in message
    content = write_photo(tmp_path / "c.png", 32, seed=0)
    assert cli.main(["stylize", str(content), "--style", str(content), "-o", str(tmp_path / "o.png")]) == 1
    assert "styler models download adaattn" in capsys.readouterr().err
