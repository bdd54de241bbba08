"""``styler models import``: each kind of file or folder, refusals that leave nothing behind,
default model switching, remove, verify, the model-folder setting, and CLIPSeg download."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine import cli
from engine.encoder import VGGEncoder
from engine.errors import StylerError
from engine.models.folder import models_dir
from engine.models.install import import_path, install
from engine.models.registry import REGISTRY_OVERRIDE_ENV
from engine.models.store import (
    default_style_model,
    installed_models,
    remove_model,
    resolve_encoder_weights,
    resolve_segmenter,
    resolve_style_model,
    set_default_model,
    verify_models,
)
from tests.local_http_server import LocalServer, Route, clear_proxy_env


def model_files() -> list[Path]:
    root = models_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_import_release_folder_becomes_default(release_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "import", str(release_dir)]) == 0
    assert "the default style model" in capsys.readouterr().out
    assert default_style_model() == "adaattn"
    assert resolve_style_model(None) == models_dir() / "adaattn.safetensors"
    assert resolve_style_model("adaattn") == models_dir() / "adaattn.safetensors"


def test_import_unzipped_checkpoints_folder(release_dir: Path, tmp_path: Path) -> None:
    # After `unzip` the user holds checkpoints/AdaAttN/latest_net_*.pth + checkpoints/vgg_normalised.pth.
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(release_dir, checkpoints / "AdaAttN")
    shutil.copy(release_dir.parent / "vgg_normalised.pth", checkpoints)
    model = import_path(checkpoints)
    assert model.name == "adaattn" and model.kind == "style"


def test_import_zip_downloaded_elsewhere(release_dir: Path, tmp_path: Path) -> None:
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / "AdaAttN_model.zip", "w") as zf:
        for f in release_dir.glob("latest_net_*.pth"):
            zf.write(f, f"AdaAttN/{f.name}")
    with pytest.raises(StylerError, match="vgg_normalised.pth"):
        import_path(downloads / "AdaAttN_model.zip")
    assert model_files() == []
    shutil.copy(release_dir.parent / "vgg_normalised.pth", downloads)
    model = import_path(downloads / "AdaAttN_model.zip", name="released")
    assert model.path == models_dir() / "released.safetensors"
    assert sorted(p.name for p in downloads.iterdir()) == ["AdaAttN_model.zip", "vgg_normalised.pth"]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not-styler"])
def test_corrupt_model_refused_leaving_nothing(model_path: Path, tmp_path: Path, damage: str) -> None:
    bad = tmp_path / "bad.safetensors"
    data = model_path.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        bad.write_bytes(b"\x00" * 1000)
    else:
        from safetensors.torch import save_file

        save_file({"w": torch.zeros(2)}, bad)
    with pytest.raises(StylerError):
        import_path(bad)
    assert model_files() == []
    assert default_style_model() is None


def test_corrupt_release_folder_refused(release_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "release"
    shutil.copytree(release_dir, broken)
    shutil.copy(release_dir.parent / "vgg_normalised.pth", broken)
    (broken / "latest_net_transformer.pth").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(StylerError, match="latest_net_transformer.pth"):
        import_path(broken)
    assert model_files() == []


def test_default_switching_remove_and_verify(model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_path(model_path, name="first")
    import_path(model_path, name="second")
    assert default_style_model() == "first"  # the first style model installed stays the default
    with pytest.raises(StylerError, match="already installed"):
        import_path(model_path, name="second")

    assert cli.main(["models", "default", "second"]) == 0
    assert resolve_style_model(None) == models_dir() / "second.safetensors"
    with pytest.raises(StylerError, match="no installed model"):
        set_default_model("third")

    assert all(r.ok for r in verify_models())
    installed = models_dir() / "first.safetensors"
    data = bytearray(installed.read_bytes())
    data[-1] ^= 0xFF
    installed.write_bytes(bytes(data))
    capsys.readouterr()
    assert cli.main(["models", "verify"]) == 1
    out = capsys.readouterr().out
    assert "first: FAILED" in out and "second: ok" in out

    remove_model("second")
    assert default_style_model() == "first"
    assert cli.main(["models", "remove", "first"]) == 0
    assert default_style_model() is None and installed_models() == []
    assert model_files() == [models_dir() / "manifest.json"]


def test_registry_names_are_reserved_for_their_kind(model_path: Path) -> None:
    with pytest.raises(StylerError, match="reserved"):
        import_path(model_path, name="clipseg")
    assert model_files() == []


def test_single_release_file_explains_what_to_import(release_dir: Path) -> None:
    with pytest.raises(StylerError, match="import the folder"):
        import_path(release_dir / "latest_net_decoder.pth")
    with pytest.raises(StylerError, match="--encoder"):
        import_path(release_dir.parent / "vgg_normalised.pth")


def test_import_torchvision_vgg(tmp_path: Path) -> None:
    encoder = VGGEncoder("torchvision").state_dict()
    state = {f"features.{k.removeprefix('layers.')}": torch.randn_like(v) for k, v in encoder.items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # dropped on import
    pth = tmp_path / "vgg19-dcbb9e9d.pth"
    torch.save(state, pth)
    model = import_path(pth)
    assert model.kind == "encoder" and resolve_encoder_weights() == model.path
    stored = load_file(model.path)
    assert stored.keys() == encoder.keys()
    assert torch.equal(stored["layers.0.weight"], state["features.0.weight"])
    assert default_style_model() is None  # an encoder is never the default style model


def test_models_folder_setting(model_path: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "big-disk" / "styler-models"
    assert cli.main(["models", "folder", str(elsewhere)]) == 0
    assert models_dir() == elsewhere
    import_path(model_path, name="mine")
    assert (elsewhere / "mine.safetensors").is_file()
    assert cli.main(["models", "folder", "--reset"]) == 0
    assert models_dir() != elsewhere


# ----------------------------------------------------------------------------- CLIPSeg

@pytest.fixture(scope="module")
def clipseg_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random CLIPSeg saved the way the Hub stores the real one."""
    from transformers import CLIPSegConfig, CLIPSegForImageSegmentation

    config = CLIPSegConfig(
        text_config={"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 16},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 16},
        projection_dim=8, extract_layers=[1], reduce_dim=8, decoder_num_attention_heads=2,
        decoder_intermediate_size=16,
    )
    folder = tmp_path_factory.mktemp("hub") / "clipseg-rd64-refined"
    CLIPSegForImageSegmentation(config).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 32, "width": 32}}))
    (folder / "vocab.json").write_text(json.dumps({"a": 0}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    (folder / "special_tokens_map.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text("{}")
    (folder / "README.md").write_text("not copied")
    return folder


def test_import_clipseg_folder_loads_with_transformers(clipseg_folder: Path) -> None:
    from transformers import CLIPSegForImageSegmentation

    assert cli.main(["models", "import", str(clipseg_folder)]) == 0
    installed = resolve_segmenter(None)
    assert installed == models_dir() / "clipseg"
    assert not (installed / "README.md").exists()
    assert (clipseg_folder / "README.md").exists()  # the source is left as it was
    CLIPSegForImageSegmentation.from_pretrained(installed)
    assert default_style_model() is None


def test_incomplete_clipseg_folder_refused(clipseg_folder: Path, tmp_path: Path) -> None:
    partial = tmp_path / "clipseg"
    shutil.copytree(clipseg_folder, partial)
    (partial / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(StylerError, match="damaged weights"):
        import_path(partial)
    assert model_files() == []


def test_download_clipseg_from_pinned_files(
    clipseg_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxy_env(monkeypatch)
    names = ["config.json", "preprocessor_config.json", "special_tokens_map.json", "tokenizer_config.json",
             "vocab.json", "merges.txt", "model.safetensors"]
    with LocalServer() as server:
        override = {}
        for name in names:
            body = (clipseg_folder / name).read_bytes()
            url = server.add(f"/resolve/{name}", Route(body=body))
            override[name] = {"urls": [url], "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        (tmp_path / "override.json").write_text(json.dumps({"clipseg": override}))
        monkeypatch.setenv(REGISTRY_OVERRIDE_ENV, str(tmp_path / "override.json"))
        model = install("clipseg")
    assert model.kind == "segmenter"
    assert sorted(p.name for p in resolve_segmenter(None).iterdir()) == sorted(names)
    assert not (models_dir() / ".downloads" / "clipseg").exists()
    assert all(r.ok for r in verify_models())
