"""`styler batch` as separate processes: stopped mid-batch and resumed, and two ranks."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from PIL import Image

from engine.batch import MANIFEST_NAME
from engine.batch.lock import LOCK_NAME
from tests.conftest import random_photo

ROOT = Path(__file__).resolve().parents[1]
NAMES = [f"photo{i:02d}.png" for i in range(8)]


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def command(in_dir: Path, out_dir: Path, style: Path, model: Path) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "batch", str(in_dir), "--style", str(style),
            "--model", str(model), "-o", str(out_dir), "--style-size", "32", "--device", "cpu"]


def manifest(out_dir: Path) -> list[dict]:
    path = out_dir / MANIFEST_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def ok_count(out_dir: Path) -> int:
    return sum(e["status"] == "ok" for e in manifest(out_dir))


def start(cmd: list[str], **env: str) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(condition, proc: subprocess.Popen) -> None:  # type: ignore[no-untyped-def]
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"batch ended early ({proc.returncode}): {proc.stderr.read()}")
        time.sleep(0.01)


def test_stopped_then_killed_then_resumed_loses_and_repeats_nothing(tmp_path, model_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    in_dir.mkdir()
    for seed, name in enumerate(NAMES):
        random_photo(in_dir / name, (32, 32), seed=seed)
    style = random_photo(tmp_path / "style.png", (32, 32), seed=99)
    before = tree_digest(in_dir)
    cmd = command(in_dir, out_dir, style, model_path)

    # Ctrl-C: the image in flight is dropped, the manifest is complete, status 130.
    proc = start(cmd)
    wait_until(lambda: ok_count(out_dir) >= 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    first = {e["input"] for e in manifest(out_dir) if e["status"] == "ok"}
    assert 1 <= len(first) < len(NAMES)
    assert {p.name for p in out_dir.glob("*.png")} == first  # every output recorded, none partial
    assert [p.name for p in out_dir.glob(".*")] == [LOCK_NAME]  # no temporaries; the lock's file stays

    # A hard kill: at worst an unrecorded output and a temporary file are left behind.
    proc = start(cmd)
    wait_until(lambda: ok_count(out_dir) > len(first), proc)
    proc.kill()
    proc.communicate(timeout=60)  # waits, and closes the pipes

    done = subprocess.run(cmd + ["--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    entries = manifest(out_dir)
    rendered = Counter(e["input"] for e in entries if e["status"] == "ok")
    assert max(rendered.values()) == 1  # nothing rendered twice
    unrecorded = {e["input"] for e in entries if e["status"] == "skipped" and "not in the manifest" in e["error"]}
    assert set(rendered) | unrecorded == set(NAMES)  # nothing lost
    assert len(unrecorded) <= 1  # only the instant between writing a file and its entry
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([*NAMES, MANIFEST_NAME, LOCK_NAME])
    for name in NAMES:
        with Image.open(out_dir / name) as out:
            out.load()
            assert out.size == (32, 32)
    assert tree_digest(in_dir) == before


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_share_the_files_and_rank0_merges_the_manifest(tmp_path, model_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    (in_dir / "sub").mkdir(parents=True)
    names = ["a.png", "b.png", "c.png", "sub/d.png", "sub/e.png"]
    for seed, name in enumerate(names):
        random_photo(in_dir / name, (32, 32), seed=seed)
    (in_dir / "broken.png").write_bytes(b"no")
    style = random_photo(tmp_path / "style.png", (32, 32), seed=99)
    cmd = command(in_dir, out_dir, style, model_path) + ["--recursive"]
    port = str(free_port())
    ranks = [
        start(cmd, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
              MASTER_PORT=port, OMP_NUM_THREADS="1")
        for rank in (0, 1)
    ]
    results = [proc.communicate(timeout=300) for proc in ranks]
    # Both ranks report the whole batch's outcome: one file failed.
    assert [proc.returncode for proc in ranks] == [3, 3], results
    assert "5 ok, 1 failed, 0 skipped of 6" in results[0][0]
    assert results[1][0] == ""  # only rank 0 talks
    # Sorted inputs alternate between ranks: broken.png (third) is rank 0's to fail.
    assert "broken.png" in results[0][1] and "broken.png" not in results[1][1]

    entries = manifest(out_dir)
    assert sorted(e["input"] for e in entries) == sorted([*names, "broken.png"])
    assert {e["status"] for e in entries if e["input"] != "broken.png"} == {"ok"}
    assert sorted(p.name for p in out_dir.iterdir()) == [LOCK_NAME, "a.png", "b.png", "c.png", MANIFEST_NAME, "sub"]
    assert sorted(p.name for p in (out_dir / "sub").iterdir()) == ["d.png", "e.png"]
