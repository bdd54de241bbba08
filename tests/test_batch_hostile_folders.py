"""Bugs 3-5 of issue 12 and the batch items of its "also fix" list: odd folder entries,
a full disk, a torn manifest, two batches into one folder, a stuck loader and Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.batch import MANIFEST_NAME, plan_batch, read_entries
from engine.batch.lock import OutputFolderBusy, output_folder_lock
from engine.batch.manifest import ManifestEntry, ManifestWriter
from engine.cli import main as cli_main
from tests.conftest import random_photo

ROOT = Path(__file__).resolve().parents[1]


def _batch(in_dir: Path, out_dir: Path, style: Path, model: Path, *extra: str) -> int:
    return cli_main(["batch", str(in_dir), "--style", str(style), "--model", str(model), "-o", str(out_dir),
                     "--style-size", "32", "--device", "cpu", "-q", *extra])


@pytest.fixture()
def style(tmp_path: Path) -> Path:
    return random_photo(tmp_path / "style.png", (32, 32), seed=9)


def test_links_loops_and_pipes_are_skipped_and_counted(tmp_path, model_path, style, capsys):
    in_dir, out_dir, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    for folder in (in_dir, in_dir / "sub", elsewhere):
        folder.mkdir()
    random_photo(in_dir / "a.jpg", (24, 24), seed=1)
    random_photo(in_dir / "sub" / "b.png", (24, 24), seed=2)
    random_photo(elsewhere / "far.jpg", (24, 24), seed=3)
    (in_dir / "loop.jpg").symlink_to(in_dir / "loop.jpg")  # a link to itself
    (in_dir / "sub" / "cycle").symlink_to(in_dir)  # a folder link back up the tree
    (in_dir / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")  # dangling
    (in_dir / "outside").symlink_to(elsewhere)  # a folder outside the tree: not followed
    (in_dir / "linked.jpg").symlink_to(elsewhere / "far.jpg")  # a file link: followed
    os.mkfifo(in_dir / "pipe.jpg")  # opening it would block forever

    plan = plan_batch(in_dir, out_dir, style, recursive=True)
    assert [i.input_key for i in plan.items] == ["a.jpg", "linked.jpg", "sub/b.png"]
    assert sorted(p.name for p in plan.ignored) == ["cycle", "gone.jpg", "loop.jpg", "outside", "pipe.jpg"]

    started = time.monotonic()
    assert _batch(in_dir, out_dir, style, model_path, "--recursive") == 0
    assert time.monotonic() - started < 120  # (a hang is the bug; the suite's timeout is the judge)
    assert "internal error" not in capsys.readouterr().err
    assert sorted(e.output for e in read_entries(out_dir) if e.status == "ok") == ["a.jpg", "linked.jpg", "sub/b.png"]


def test_a_pipe_named_like_a_photo_is_refused_by_stylize_without_blocking(tmp_path, model_path, style, capsys):
    os.mkfifo(tmp_path / "pipe.jpg")
    assert cli_main(["stylize", str(tmp_path / "pipe.jpg"), "--style", str(style), "--model", str(model_path),
                     "-o", str(tmp_path / "o.jpg")]) == 1
    assert "not a regular file" in capsys.readouterr().err


def test_earlier_output_folder_inside_the_input_is_not_restyled(tmp_path, model_path, style, capsys):
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    random_photo(in_dir / "a.jpg", (24, 24), seed=1)
    assert _batch(in_dir, tmp_path / "first", style, model_path) == 0
    shutil.move(tmp_path / "first", in_dir / "styled")  # the earlier results now sit inside IN_DIR
    out_dir = tmp_path / "second"
    assert _batch(in_dir, out_dir, style, model_path, "--recursive") == 0
    assert [e.input for e in read_entries(out_dir)] == ["a.jpg"]
    assert _batch(in_dir, tmp_path / "third", style, model_path, "--recursive", "--include-output-folders") == 0
    assert sorted(e.input for e in read_entries(tmp_path / "third")) == ["a.jpg", "styled/a.jpg"]


def test_a_second_batch_into_the_same_folder_is_refused(tmp_path, model_path, style, capsys):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    random_photo(in_dir / "a.jpg", (24, 24), seed=1)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from engine.batch.lock import output_folder_lock
            with output_folder_lock({str(out_dir)!r}):
                print("locked", flush=True)
                time.sleep(60)
        """)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert _batch(in_dir, out_dir, style, model_path) == 2
        assert "another styler batch is writing into this folder" in capsys.readouterr().err
        assert not (out_dir / MANIFEST_NAME).exists()
    finally:
        holder.kill()  # SIGKILL: the lock must not outlive its process
        holder.communicate()  # waits, and closes the pipe
    assert _batch(in_dir, out_dir, style, model_path) == 0
    with output_folder_lock(out_dir):  # released after the batch, too
        with pytest.raises(OutputFolderBusy):
            with output_folder_lock(out_dir):
                pass


def test_a_torn_last_manifest_line_is_dropped_not_merged(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    whole = ManifestEntry(input="a.jpg", output="a.jpg", status="ok", settings_hash="h").to_json()
    (out_dir / MANIFEST_NAME).write_text(whole + "\n" + whole[:25])  # a power cut mid-line
    assert [e.input for e in read_entries(out_dir)] == ["a.jpg"]
    with ManifestWriter(out_dir / MANIFEST_NAME) as writer:
        writer.append(ManifestEntry(input="b.jpg", output="b.jpg", status="ok", settings_hash="h"))
    lines = (out_dir / MANIFEST_NAME).read_text().splitlines(keepends=True)
    assert all(line.endswith("\n") for line in lines)
    assert [json.loads(line)["input"] for line in lines] == ["a.jpg", "b.jpg"]


needs_unshare = pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")


@needs_unshare
def test_full_disk_stops_the_batch_with_one_line_and_a_whole_manifest(tmp_path, model_path, style):
    """A real full disk: a small tmpfs mounted in a private user+mount namespace."""
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    for i in range(5):
        random_photo(in_dir / f"p{i}.png", (64, 64), seed=i)
    script = tmp_path / "full.sh"
    out = tmp_path / "mnt"
    out.mkdir()
    batch = (f"{sys.executable} -m engine.cli batch {in_dir} --style {style} --model {model_path} "
             f"-o {out} --style-size 32 --device cpu")
    script.write_text(textwrap.dedent(f"""
        set -u
        mount -t tmpfs -o size=256k tmpfs {out} || exit 97
        # Leave 4 kB: the manifest and lock fit, no output image does.
        head -c $(( $(stat -f -c '%a * %S' {out}) - 4096 )) /dev/zero > {out}/.filler
        {batch} 2> {tmp_path}/first.err > {tmp_path}/first.out; echo $? > {tmp_path}/first.rc
        cp {out}/{MANIFEST_NAME} {tmp_path}/first.jsonl 2>/dev/null
        rm {out}/.filler  # the user frees some space
        mount -o remount,size=2m {out}
        {batch} 2> {tmp_path}/second.err > {tmp_path}/second.out; echo $? > {tmp_path}/second.rc
        cp {out}/{MANIFEST_NAME} {tmp_path}/second.jsonl
        ls {out} > {tmp_path}/second.ls
    """))
    done = subprocess.run(["unshare", "-rm", "sh", str(script)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    first_err = (tmp_path / "first.err").read_text()
    assert (tmp_path / "first.rc").read_text().strip() == "3", first_err
    assert "internal error" not in first_err and "Traceback" not in first_err
    assert sum("no space left" in line for line in first_err.splitlines()) == 1, first_err
    assert "needs about" in first_err
    assert "styler batch stopped:" in (tmp_path / "first.out").read_text()
    first = (tmp_path / "first.jsonl").read_text()
    assert all(line.endswith("\n") and json.loads(line) for line in first.splitlines(keepends=True))
    assert len(first.splitlines()) < 5  # it stopped instead of trying every photo

    second_err = (tmp_path / "second.err").read_text()
    assert (tmp_path / "second.rc").read_text().strip() == "0", second_err
    entries = [json.loads(line) for line in (tmp_path / "second.jsonl").read_text().splitlines()]
    assert sorted(e["output"] for e in entries if e["status"] == "ok") == [f"p{i}.png" for i in range(5)]
    assert sorted((tmp_path / "second.ls").read_text().split()) == sorted(
        [MANIFEST_NAME, *(f"p{i}.png" for i in range(5))])


def test_second_signal_ends_the_process_even_with_a_stuck_loader(tmp_path):
    """A loader thread blocked in open() (a pipe nobody writes) must not keep the process alive."""
    fifo = tmp_path / "stuck"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            from concurrent.futures import ThreadPoolExecutor
            from engine.batch.console import stop_on_signals
            with stop_on_signals() as stop, ThreadPoolExecutor(1) as loader:
                stuck = loader.submit(open, {str(fifo)!r}, "rb")
                print("waiting", flush=True)
                stuck.result()
        """)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "waiting"
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # the first signal asks for a clean stop
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=20) == 130
    finally:
        proc.kill()
    _, stderr = proc.communicate()  # reads what is left and closes both pipes
    assert "Traceback" not in stderr
