"""Files a hostile or unlucky user hands to Styler: damaged, disguised, huge, odd, crafted.
Built on the fly in a test's folder (nothing here is committed as data)."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from engine.checkpoint import FORMAT_NAME
from tests.conftest import random_photo


def _rewrite_model(model: Path, out: Path, config: object = None, poison: bool = False) -> Path:
    tensors = load_file(str(model))
    if poison:
        name = next(k for k in sorted(tensors) if k.startswith("decoder"))
        tensors[name] = tensors[name].clone()
        tensors[name].view(-1)[0] = float("nan")
    metadata = {"format": FORMAT_NAME, "format_version": "1", "training": "{}", "provenance": "{}",
                "config": json.dumps(config) if config is not None else json.dumps({"levels": [3, 4, 5], "encoder": "vgg_normalised"})}
    save_file(tensors, str(out), metadata=metadata)
    return out


class _RunsCode:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def hostile_images(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    good = random_photo(folder / "good.jpg", (40, 30))
    files = {"good": good}
    data = good.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    files["truncated"] = folder / "truncated.jpg"
    (folder / "text.jpg").write_text("not an image")
    files["text"] = folder / "text.jpg"
    (folder / "empty.png").write_bytes(b"")
    files["empty"] = folder / "empty.png"
    os.mkfifo(folder / "pipe.jpg")
    files["pipe"] = folder / "pipe.jpg"
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    files["loop"] = folder / "loop.jpg"
    (folder / "dangling.jpg").symlink_to(folder / "nowhere.jpg")
    files["dangling"] = folder / "dangling.jpg"
    (folder / "dir.jpg").mkdir()
    files["folder"] = folder / "dir.jpg"
    bomb = io.BytesIO()
    Image.new("1", (1, 1)).save(bomb, format="PNG")
    header = bytearray(bomb.getvalue())
    header[16:24] = (60000).to_bytes(4, "big") * 2  # IHDR claims 60000×60000
    (folder / "bomb.png").write_bytes(bytes(header))
    files["bomb"] = folder / "bomb.png"
    Image.fromarray((np.random.default_rng(0).random((5000, 3, 3)) * 255).astype(np.uint8)).save(folder / "thin.png")
    files["thin"] = folder / "thin.png"
    Image.new("RGB", (1, 1), (9, 9, 9)).save(folder / "dot.png")
    files["dot"] = folder / "dot.png"
    frames = [Image.new("RGB", (16, 16), (i * 40, 0, 0)) for i in range(3)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    files["gif"] = folder / "anim.gif"
    return files


def hostile_models(folder: Path, model: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    data = model.read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[: len(data) // 3])
    files["truncated"] = folder / "truncated.safetensors"
    files["float_levels"] = _rewrite_model(model, folder / "float_levels.safetensors",
                                           {"levels": [3.0, 4.0, 5.0], "encoder": "vgg_normalised"})
    files["unknown_encoder"] = _rewrite_model(model, folder / "unknown_encoder.safetensors",
                                              {"levels": [3, 4, 5], "encoder": "resnet"})
    files["config_not_object"] = _rewrite_model(model, folder / "config_list.safetensors", [3, 4, 5])
    files["nan"] = _rewrite_model(model, folder / "nan.safetensors", poison=True)
    with open(folder / "pickle.pth", "wb") as f:
        pickle.dump({"weight": _RunsCode()}, f)
    files["pickle"] = folder / "pickle.pth"
    torch.save({"features.0.weight": torch.full((64, 3, 3, 3), float("inf"))}, folder / "inf.pth")
    files["inf_pth"] = folder / "inf.pth"
    torch.save([1, 2, 3], folder / "list.pth")
    files["not_state"] = folder / "list.pth"
    with zipfile.ZipFile(folder / "slip.zip", "w") as z:
        z.writestr("../../escaped.pth", b"x")
    files["zip_slip"] = folder / "slip.zip"
    (folder / "text.safetensors").write_text("hello")
    files["text"] = folder / "text.safetensors"
    return files
