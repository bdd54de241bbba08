"""Styler's model file and the release importer refuse anything they should not trust."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from safetensors.torch import save_file

from engine.checkpoint import import_release, load_model, read_model_info, save_model
from engine.errors import StylerError
from engine.network import StyleNet, StyleNetConfig
from tests.release_weights import write_release


def test_round_trip_keeps_weights_and_header(tmp_path):
    model = StyleNet(StyleNetConfig(levels=(3, 5), encoder="torchvision"))
    path = save_model(model, tmp_path / "m.safetensors", training={"steps": 3}, provenance={"by": "test"})
    loaded, info = load_model(path)
    assert info.config == model.config and info.training == {"steps": 3} and info.provenance == {"by": "test"}
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left
    image = torch.rand(1, 3, 32, 32)  # the encoder's constants (ImageNet normalisation) came along too
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(model.encoder(image), loaded.encoder(image), strict=True))


def test_loading_a_model_draws_nothing_from_the_global_random_generator(tmp_path):
    """Another thread may have seeded it for work of its own (a training run, a test's model)."""
    path = save_model(StyleNet(), tmp_path / "m.safetensors")
    state = torch.random.get_rng_state()
    load_model(path)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_import_records_provenance(model_path):
    info = read_model_info(model_path)
    assert info.config.levels == (3, 4, 5) and info.config.encoder == "vgg_normalised"
    assert "AdaAttN" in info.provenance["source"]


def test_garbage_truncated_and_foreign_files_are_refused(tmp_path, model_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(os.urandom(1000))
    with pytest.raises(StylerError, match="garbage.safetensors: not a readable"):
        load_model(garbage)

    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(model_path.read_bytes()[:200_000])
    with pytest.raises(StylerError, match="truncated.safetensors"):
        load_model(truncated)

    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(2)}, foreign)
    with pytest.raises(StylerError, match="not a Styler model"):
        load_model(foreign)

    with pytest.raises(StylerError, match="not found"):
        load_model(tmp_path / "nothing.safetensors")


def test_header_that_lies_about_levels_is_refused(tmp_path):
    path = save_model(StyleNet(StyleNetConfig(levels=(4, 5))), tmp_path / "m.safetensors")
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = dict(f.metadata())
    meta["config"] = StyleNetConfig(levels=(3, 4, 5)).to_json()
    liar = tmp_path / "liar.safetensors"
    save_file(tensors, liar, metadata=meta)
    with pytest.raises(StylerError, match="missing"):
        load_model(liar)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_release_import_never_unpickles_objects(tmp_path):
    folder = tmp_path / "rel"
    write_release(folder)
    with open(folder / "latest_net_decoder.pth", "wb") as f:
        pickle.dump({"decoder_layer_1.1.weight": _Exploit()}, f, protocol=2)
    with pytest.raises(StylerError, match="latest_net_decoder.pth: not a plain weights file"):
        import_release(folder, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_release_import_reports_missing_and_wrong_files(tmp_path):
    folder = tmp_path / "rel"
    write_release(folder)
    (folder / "vgg_normalised.pth").unlink()
    with pytest.raises(StylerError, match="vgg_normalised.pth not found"):
        import_release(folder, tmp_path / "o.safetensors")
    write_release(folder)
    (folder / "latest_net_transformer.pth").unlink()
    with pytest.raises(StylerError, match="missing latest_net_transformer.pth"):
        import_release(folder, tmp_path / "o.safetensors")
    write_release(folder)
    state = torch.load(folder / "latest_net_adaattn_3.pth", weights_only=True)
    state["f.weight"] = torch.zeros(10, 10, 1, 1)
    torch.save(state, folder / "latest_net_adaattn_3.pth")
    with pytest.raises(StylerError, match="shape"):
        import_release(folder, tmp_path / "o.safetensors")
    assert not (tmp_path / "o.safetensors").exists()


def test_data_parallel_prefix_is_accepted(tmp_path):
    folder = tmp_path / "rel"
    write_release(folder)
    state = torch.load(folder / "latest_net_decoder.pth", weights_only=True)
    torch.save({f"module.{k}": v for k, v in state.items()}, folder / "latest_net_decoder.pth")
    assert import_release(folder, tmp_path / "o.safetensors").exists()
