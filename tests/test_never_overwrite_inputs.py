"""Bug 1 of issue 12: no input of any kind (content, style, mask, model) is ever an output
target, with or without --overwrite, in stylize, segment, batch and the app's save path."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from engine.batch import BatchUsageError, plan_batch
from engine.cli import main as cli_main
from engine.errors import StylerError
from engine.targets import InputOverwriteError, refuse_input_targets
from tests.conftest import random_photo


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def files(tmp_path):
    style = random_photo(tmp_path / "s.jpg", (40, 30), seed=1)
    photo = random_photo(tmp_path / "photo.jpg", (36, 28), seed=2)
    return style, photo


def test_stylize_never_writes_over_the_style_or_the_model(tmp_path, model_path, files, capsys):
    style, photo = files
    model_copy = tmp_path / "model.png"  # a model path with an image suffix, as -o could name it
    model_copy.write_bytes(model_path.read_bytes())
    before = {p: _digest(p) for p in (style, photo)}
    for target in (style, photo):
        rc = cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path),
                       "-o", str(target), "--overwrite", "--style-size", "32"])
        assert rc == 1
        assert "would overwrite an input" in capsys.readouterr().err
    # The same file under another name (a hard link) is still the style.
    alias = tmp_path / "alias.jpg"
    os.link(style, alias)
    assert cli_main(["stylize", str(photo), "--style", str(style), "--model", str(model_path),
                     "-o", str(alias), "--overwrite"]) == 1
    assert "the style image" in capsys.readouterr().err
    assert {p: _digest(p) for p in (style, photo)} == before


def test_stylize_mask_output_never_lands_on_the_style(tmp_path, model_path, files, capsys):
    style, photo = files
    mask_named_like_style = random_photo(tmp_path / "out.mask.png", (8, 8))
    before = _digest(mask_named_like_style)
    rc = cli_main(["stylize", str(photo), "--style", str(mask_named_like_style), "--model", str(model_path),
                   "-o", str(tmp_path / "out.png"), "--save-mask", "--overwrite"])
    assert rc == 1 and "the style image" in capsys.readouterr().err
    assert _digest(mask_named_like_style) == before


def test_batch_refuses_an_output_landing_on_the_style(tmp_path, model_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    out_dir.mkdir()
    random_photo(in_dir / "bear.jpg", (32, 32), seed=3)
    style = random_photo(out_dir / "bear.jpg", (32, 32), seed=4)  # the style sits in OUT_DIR
    before = _digest(style)
    with pytest.raises(BatchUsageError, match="the style image"):
        plan_batch(in_dir, out_dir, style)
    rc = cli_main(["batch", str(in_dir), "--style", str(style), "--model", str(model_path),
                   "-o", str(out_dir), "--overwrite"])
    assert rc == 2
    assert _digest(style) == before


def test_batch_refuses_an_output_landing_on_the_model(tmp_path, model_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    random_photo(in_dir / "m.jpg", (32, 32), seed=3)
    style = random_photo(tmp_path / "s.png", (32, 32), seed=4)
    model = out_dir / "m.jpg"
    model.parent.mkdir()
    model.write_bytes(model_path.read_bytes())
    with pytest.raises(BatchUsageError, match="the model"):
        plan_batch(in_dir, out_dir, style, protected=[("model", model)])


def test_segment_never_writes_over_its_photo(tmp_path, files, capsys):
    _, photo = files
    png = random_photo(tmp_path / "p.png", (16, 16))
    assert cli_main(["segment", str(png), "--prompt", "sky", "-o", str(png), "--overwrite"]) == 1
    assert "would overwrite an input" in capsys.readouterr().err


def test_app_save_refuses_the_style_as_destination(tmp_path, model_path, files):
    from styler_app.session import EngineConfig, EngineSession, RenderRequest

    style, photo = files
    before = _digest(style)
    session = EngineSession(EngineConfig(model_path=str(model_path), device="cpu", style_size=32))

    class Context:
        def progress(self, *args: object) -> None: ...

        def check(self) -> None: ...

    with pytest.raises(StylerError, match="the style image"):
        session.save(RenderRequest(content=photo, style=style), style, Context())  # type: ignore[arg-type]
    assert _digest(style) == before


def test_check_sees_through_links_and_dot_dot(tmp_path):
    real = random_photo(tmp_path / "a.png", (4, 4))
    link = tmp_path / "link.png"
    link.symlink_to(real)
    for output in (link, tmp_path / "sub" / ".." / "a.png"):
        with pytest.raises(InputOverwriteError):
            refuse_input_targets([output], [("style image", real)])
    refuse_input_targets([tmp_path / "b.png"], [("style image", real)])  # another file is fine
