"""Fixtures shared across the suite: random weights in the release layout and a Styler
model imported from them (built once per test session)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.checkpoint import import_release
from tests.release_weights import write_release


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("release") / "checkpoints"
    write_release(folder, seed=0, encoder_in_parent=True)
    return folder


@pytest.fixture(scope="session")
def release_state(release_dir: Path) -> dict:
    from tests.release_weights import make_release_state

    return make_release_state(seed=0)


@pytest.fixture(scope="session")
def model_path(release_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_release(release_dir, tmp_path_factory.mktemp("model") / "adaattn.safetensors")


@pytest.fixture(autouse=True, scope="session")
def no_automatic_garbage_collection() -> Iterator[None]:
    """As in the app (styler_app/gui_thread_gc.py): a collection run by the engine thread
    can destroy a dead test's widgets off the GUI thread and segfault the whole run."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def garbage_collected_on_main_thread() -> Iterator[None]:
    """Collect after every test, on the main thread: the young generations each time, all of
    them as often as CPython's own thresholds would (a full pass costs ~0.2 s here)."""
    yield
    gc.collect(1)
    if gc.get_count()[2] > gc.get_threshold()[2]:
        gc.collect(2)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own STYLER_HOME: no test reads or writes the user's real files."""
    home = tmp_path / "styler-home"
    monkeypatch.setenv("STYLER_HOME", str(home))
    return home


def random_photo(path: Path, size: tuple[int, int], seed: int = 0, mode: str = "RGB", **save) -> Path:
    """A smooth random image (gradients + noise) of ``size`` = (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / max(w, 1), yy / max(h, 1), (xx + yy) / max(w + h, 1)], axis=2)
    pixels = np.clip(base * 200 + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels).convert(mode) if mode != "RGB" else Image.fromarray(pixels)
    img.save(path, **save)
    return path
