"""`styler batch` and engine.batch in one process: plans, manifest, resume, failures."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

from engine.batch import MANIFEST_NAME, BatchEvent, BatchUsageError, plan_batch, read_entries, run_batch
from engine.batch.manifest import ManifestEntry, ManifestWriter, ResumeIndex, merge_parts, part_path
from engine.cli import main as cli_main
from engine.options import RenderOptions
from engine.pipeline import Pipeline
from engine.stylizer import Stylizer
from tests.conftest import random_photo
from tests.tiny_clipseg import clipseg_dir  # noqa: F401 (fixture)

SMALL = ["--style-size", "32", "--device", "cpu"]


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def entries(out_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (out_dir / MANIFEST_NAME).read_text().splitlines()]


def photos(folder: Path, names: list[str], size: tuple[int, int] = (32, 32)) -> list[Path]:
    paths = []
    for seed, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        paths.append(random_photo(path, size, seed=seed))
    return paths


@pytest.fixture()
def style(tmp_path: Path) -> Path:
    return random_photo(tmp_path / "style.png", (32, 32), seed=99)


@pytest.fixture(scope="module")
def pipeline(model_path) -> Pipeline:
    """One warm pipeline for the in-process tests, as the app keeps one."""
    return Pipeline(Stylizer.from_file(model_path, device="cpu", style_size=32))


def batch(in_dir: Path, out_dir: Path, style: Path, model: Path, *extra: str) -> int:
    return cli_main(["batch", str(in_dir), "--style", str(style), "--model", str(model),
                     "-o", str(out_dir), "--quiet", *SMALL, *extra])


def test_mixed_good_and_bad_files_fail_alone_and_inputs_stay_untouched(tmp_path, model_path, style, capsys):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, ["a.jpg", "sub/b.png"])
    random_photo(in_dir / "c.png", (40, 32), seed=5, mode="RGBA")
    (in_dir / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    (in_dir / "empty.png").write_bytes(b"")
    good = (in_dir / "c.png").read_bytes()
    (in_dir / "truncated.png").write_bytes(good[: len(good) // 2])
    (in_dir / "notes.txt").write_text("not a photo")
    before = tree_digest(in_dir)

    assert batch(in_dir, out_dir, style, model_path, "--recursive") == 3

    assert tree_digest(in_dir) == before
    by_input = {e["input"]: e for e in entries(out_dir)}
    assert set(by_input) == {"a.jpg", "sub/b.png", "c.png", "corrupt.jpg", "empty.png", "truncated.png"}
    for name in ("a.jpg", "sub/b.png", "c.png"):
        assert by_input[name]["status"] == "ok" and by_input[name]["error"] is None
    for name in ("corrupt.jpg", "empty.png", "truncated.png"):
        assert by_input[name]["status"] == "failed"
        assert name in by_input[name]["error"]
        assert not (out_dir / name).exists()
    assert len({e["settings_hash"] for e in by_input.values()}) == 1
    with Image.open(out_dir / "c.png") as out:
        assert out.size == (40, 32) and out.mode == "RGBA"  # alpha carried over
    with Image.open(out_dir / "sub" / "b.png") as out:
        assert out.size == (32, 32)
    assert not list(out_dir.rglob("*.part"))
    err = capsys.readouterr().err
    assert "corrupt.jpg" in err and "Traceback" not in err


def test_rerun_skips_done_changed_settings_rerender_overwrite_forces(tmp_path, pipeline, style):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, ["a.jpg"])
    plan = plan_batch(in_dir, out_dir, style)
    full, light = RenderOptions(), RenderOptions(strength=0.3)
    assert run_batch(plan, pipeline, full).ok == 1
    first = tree_digest(out_dir)["a.jpg"]

    assert run_batch(plan, pipeline, full).skipped == 1
    assert tree_digest(out_dir)["a.jpg"] == first

    assert run_batch(plan, pipeline, light).ok == 1
    assert tree_digest(out_dir)["a.jpg"] != first
    assert run_batch(plan, pipeline, light, overwrite=True).ok == 1
    assert [e["status"] for e in entries(out_dir)] == ["ok", "skipped", "ok", "ok"]
    hashes = [e["settings_hash"] for e in entries(out_dir)]
    assert hashes[0] == hashes[1] != hashes[2] == hashes[3]


def test_output_not_made_by_a_batch_is_kept_unless_overwrite(tmp_path, pipeline, style):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, ["a.jpg"])
    out_dir.mkdir()
    (out_dir / "a.jpg").write_bytes(b"the user's own file")
    plan = plan_batch(in_dir, out_dir, style)
    assert run_batch(plan, pipeline, RenderOptions()).skipped == 1
    assert (out_dir / "a.jpg").read_bytes() == b"the user's own file"
    assert run_batch(plan, pipeline, RenderOptions(), overwrite=True).ok == 1
    with Image.open(out_dir / "a.jpg") as out:
        assert out.size == (32, 32)


def test_out_dir_equal_to_in_dir_refused_when_outputs_would_replace_inputs(tmp_path, model_path, pipeline,
                                                                           style, capsys):
    in_dir = tmp_path / "in"
    photos(in_dir, ["a.jpg", "b.png"])
    before = tree_digest(in_dir)
    assert batch(in_dir, in_dir, style, model_path) == 2
    assert "would overwrite an input" in capsys.readouterr().err
    assert tree_digest(in_dir) == before  # not even a manifest

    # Names no input has are fine, and a re-run does not take the results for new inputs.
    for _ in range(2):
        plan = plan_batch(in_dir, in_dir, style, name="{stem}.styled{ext}")
        assert [i.input_key for i in plan.items] == ["a.jpg", "b.png"]
        assert run_batch(plan, pipeline, RenderOptions()).failed == 0
    # The batch lock's file stays (the OS lock on it is what is released).
    assert sorted(p.name for p in in_dir.iterdir()) == [
        ".styler-batch.lock", "a.jpg", "a.styled.jpg", "b.png", "b.styled.png", MANIFEST_NAME]
    assert [e["status"] for e in entries(in_dir)] == ["ok", "ok", "skipped", "skipped"]
    assert {k: v for k, v in tree_digest(in_dir).items() if k in before} == before


def test_out_dir_inside_in_dir_is_not_walked(tmp_path, pipeline, style):
    in_dir = tmp_path / "in"
    out_dir = in_dir / "styled"
    photos(in_dir, ["a.jpg", "deeper/b.jpg"])
    for _ in range(2):
        plan = plan_batch(in_dir, out_dir, style, recursive=True)
        assert [i.input_key for i in plan.items] == ["a.jpg", "deeper/b.jpg"]
        run_batch(plan, pipeline, RenderOptions())
    assert [e["status"] for e in entries(out_dir)] == ["ok", "ok", "skipped", "skipped"]
    assert not (out_dir / "styled").exists()


def test_masks_are_outputs_too(tmp_path, pipeline, style):
    in_dir = tmp_path / "in"
    photos(in_dir, ["a.png"])
    options = RenderOptions(save_mask=True)
    with pytest.raises(BatchUsageError, match="would overwrite an input"):
        photos(in_dir, ["a.styled.mask.png"])
        plan_batch(in_dir, in_dir, style, name="{stem}.styled{ext}", save_mask=True)
    (in_dir / "a.styled.mask.png").unlink()
    for _ in range(2):  # the second run must not take the mask for a new photo
        plan = plan_batch(in_dir, in_dir, style, name="{stem}.styled{ext}", save_mask=True)
        assert [i.input_key for i in plan.items] == ["a.png"]
        run_batch(plan, pipeline, options)
    with Image.open(in_dir / "a.styled.mask.png") as mask:
        assert mask.mode == "L" and mask.size == (32, 32)
    assert entries(in_dir)[0]["mask"] == "a.styled.mask.png"


def test_name_template_fields_and_usage_errors(tmp_path, model_path, style, capsys):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, ["x.jpg", "y.png"])
    assert batch(in_dir, out_dir, style, model_path, "--name", "{index:03d}_{style}_{prompt}_{stem}",
                 "--format", "webp") == 0
    assert sorted(p.name for p in out_dir.glob("*.webp")) == ["001_style_all_x.webp", "002_style_all_y.webp"]

    capsys.readouterr()
    assert batch(in_dir, tmp_path / "o2", style, model_path, "--name", "{nope}{ext}") == 2
    assert "unknown field {nope}" in capsys.readouterr().err
    assert batch(in_dir, tmp_path / "o3", style, model_path, "--name", "same{ext}", "--format", "png") == 2
    assert "would both be written to" in capsys.readouterr().err
    assert batch(in_dir, tmp_path / "o4", style, model_path, "--name", "../{stem}{ext}") == 2
    assert batch(tmp_path / "missing", tmp_path / "o5", style, model_path) == 2
    assert batch(in_dir, tmp_path / "o6", tmp_path / "no-style.png", model_path) == 2
    assert not any((tmp_path / f"o{i}").exists() for i in range(2, 7))


def test_prompt_slug_field(tmp_path, style):
    in_dir = tmp_path / "in"
    photos(in_dir, ["x.jpg"])
    plan = plan_batch(in_dir, tmp_path / "out", style, name="{stem}-{prompt}",
                      prompts=("Blue Sky!", "the sea"), invert=True)
    assert plan.items[0].destination.name == "x-not-blue-sky_the-sea.jpg"


def test_run_batch_api_style_once_prefetch_events_cancel_and_resume(tmp_path, pipeline, monkeypatch):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, [f"p{i}.png" for i in range(4)])
    style = random_photo(tmp_path / "unseen-style.png", (32, 32), seed=1234)
    plan = plan_batch(in_dir, out_dir, style)
    options = RenderOptions()

    encodings = []
    style_memories = pipeline.stylizer.model.style_memories
    monkeypatch.setattr(pipeline.stylizer.model, "style_memories",
                        lambda *a, **k: encodings.append(1) or style_memories(*a, **k))
    import engine.batch.runner as runner

    loaded_on = []
    real_load = runner.load_image
    monkeypatch.setattr(runner, "load_image",
                        lambda p, *a: loaded_on.append(threading.current_thread().name) or real_load(p, *a))

    events: list[BatchEvent] = []
    summary = run_batch(plan, pipeline, options, progress=events.append,
                        cancel=lambda: sum(e.kind == "start" for e in events) >= 3)
    assert summary.cancelled and summary.ok == 2 and summary.failed == 0
    assert not (out_dir / "p2.png").exists() and not (out_dir / "p3.png").exists()
    done = [e for e in events if e.kind == "done"]
    assert [(e.done, e.total, e.status) for e in done] == [(1, 4, "ok"), (2, 4, "ok")]
    assert done[-1].rate > 0 and done[-1].eta is not None
    # the first file loads where the batch starts, the later ones ahead of time on the loader
    assert any(name.startswith("styler-load") for name in loaded_on[1:])

    events.clear()
    summary = run_batch(plan, pipeline, options, progress=events.append)
    assert not summary.cancelled
    assert (summary.ok, summary.skipped, summary.failed) == (2, 2, 0)
    assert encodings == [1]  # one style encoding for both runs: the Stylizer cache holds it
    ok_inputs = [e.input for e in read_entries(out_dir) if e.status == "ok"]
    assert sorted(ok_inputs) == ["p0.png", "p1.png", "p2.png", "p3.png"]  # each exactly once


def test_out_of_memory_on_one_image_fails_it_and_the_batch_goes_on(tmp_path, pipeline, style, monkeypatch):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, ["a.png", "c.png"])
    random_photo(in_dir / "b_huge.png", (64, 48), seed=3)
    attend = pipeline.stylizer.model.attend

    def attend_or_oom(features, memories, level, chunk=None, window=None):
        image_width = features.feature[level].shape[-1] * {3: 4, 4: 8, 5: 16}[level]
        if image_width >= 64:  # only b_huge.png; the lean path fails too
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return attend(features, memories, level, chunk, window)

    monkeypatch.setattr(pipeline.stylizer.model, "attend", attend_or_oom)
    summary = run_batch(plan_batch(in_dir, out_dir, style), pipeline, RenderOptions())
    assert (summary.ok, summary.failed) == (2, 1)
    assert summary.failures[0][0].name == "b_huge.png"
    assert "out of memory" in summary.failures[0][1]
    assert (out_dir / "a.png").exists() and (out_dir / "c.png").exists()
    assert not (out_dir / "b_huge.png").exists()


def test_plan_refuses_before_touching_anything(tmp_path, style):
    in_dir = tmp_path / "in"
    photos(in_dir, ["a.jpg", "a.png"])
    with pytest.raises(BatchUsageError, match="would both be written"):
        plan_batch(in_dir, tmp_path / "out", style, fmt="png")
    with pytest.raises(BatchUsageError, match="use one of"):
        plan_batch(in_dir, tmp_path / "out", style, fmt="gif")
    plan = plan_batch(in_dir, tmp_path / "out", style, fmt="keep")
    assert [i.output_key for i in plan.shard(1, 2).items] == ["a.png"]
    assert plan.shard(1, 2).manifest_path == part_path(tmp_path / "out", 1)
    assert not (tmp_path / "out").exists()


def test_manifest_tolerates_a_torn_line_and_merges_parts(tmp_path):
    out_dir = tmp_path / "out"
    with ManifestWriter(out_dir / MANIFEST_NAME) as main:
        main.append(ManifestEntry("a.jpg", "a.jpg", "ok", settings_hash="h1"))
    with ManifestWriter(part_path(out_dir, 1)) as part:
        part.append(ManifestEntry("b.jpg", "b.jpg", "failed", error="damaged", settings_hash="h1"))
    with open(part_path(out_dir, 1), "a") as f:
        f.write('{"input": "c.jpg", "outp')  # a line cut short by a crash
    assert [e.input for e in read_entries(out_dir)] == ["a.jpg", "b.jpg"]
    assert merge_parts(out_dir) == 1
    assert not part_path(out_dir, 1).exists()
    assert [e.input for e in read_entries(out_dir)] == ["a.jpg", "b.jpg"]

    index = ResumeIndex(read_entries(out_dir))
    assert index.skip_reason("a.jpg", "a.jpg", True, "h1") == "done earlier with the same settings"
    assert index.skip_reason("a.jpg", "a.jpg", True, "h2") is None  # settings changed
    assert index.skip_reason("a.jpg", "a.jpg", False, "h1") is None  # output deleted
    assert index.skip_reason("b.jpg", "b.jpg", True, "h1") is None  # failed before
    assert "not in the manifest" in index.skip_reason("z.jpg", "z.jpg", True, "h1")


def test_prompted_batch_encodes_each_prompt_once_and_names_by_prompt(tmp_path, model_path, style,
                                                                    clipseg_dir, monkeypatch):
    from transformers import CLIPSegModel

    encoded = []
    text_features = CLIPSegModel.get_text_features
    monkeypatch.setattr(CLIPSegModel, "get_text_features",
                        lambda self, **kw: encoded.append(1) or text_features(self, **kw))
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    photos(in_dir, ["x.png", "y.png", "z.png"], size=(48, 40))
    assert batch(in_dir, out_dir, style, model_path, "--prompt", "the bed", "--segmenter", str(clipseg_dir),
                 "--save-mask", "--name", "{stem}_{prompt}") == 0
    assert len(encoded) == 1
    assert sorted(p.name for p in out_dir.glob("*.png")) == sorted(
        f"{s}_the-bed{m}.png" for s in "xyz" for m in ("", ".mask"))
    assert [e["mask"] for e in entries(out_dir)] == [f"{s}_the-bed.mask.png" for s in "xyz"]
