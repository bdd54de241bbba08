"""Interactive previews: a quick low-resolution pass on screen first and replaced by the
exact preview; the gallery's styles encoded in idle time before they are clicked; the
strength slider blending cached renders while dragged and rendering exactly on release.

The model is the release's architecture with seeded random weights (``model_path``): unlike
a default-initialised StyleNet, its pictures change visibly with the style and strength."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.options import RenderOptions
from engine.resources import sample_styles
from styler_app.job_protocol import FunctionJob
from styler_app.jobs import session_of
from styler_app.main_window import MainWindow
from styler_app.session import EngineConfig, EngineSession
from styler_app.settings import AppSettings
from tests.gui.test_preview_fidelity import as_8bit, engine_render, pixels, show_preview


@pytest.fixture
def window(qtbot, tmp_path: Path, model_path: Path):  # type: ignore[no-untyped-def]
    settings = AppSettings.at(tmp_path / "interactive.ini")
    settings.preview_size = 64
    config = EngineConfig(model_path=str(model_path), device="cpu", style_size=64)
    win = MainWindow(settings, lambda: EngineSession(config), check_models=False)
    qtbot.addWidget(win)
    win.show()
    win.start()
    yield win
    win.shutdown()


def ask_engine(qtbot, window: MainWindow, question):  # type: ignore[no-untyped-def]
    """``question(session)``'s answer, asked on the engine thread like any job."""
    answers: list[object] = []
    window.worker.submit(FunctionJob("test query", lambda context: question(session_of(context))),
                         on_result=answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=30_000)
    return answers[0]


def test_the_quick_pass_comes_first_and_the_exact_preview_replaces_it(qtbot, window, photos: Path, model_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown: list[tuple[str, np.ndarray]] = []
    canvas = window.preview.canvas
    window.previews.quick_shown.connect(lambda result: shown.append(("quick", pixels(canvas.result()))))
    window.previews.shown.connect(lambda result: shown.append(("full", pixels(canvas.result()))))
    window.open_folder(photos)
    style = sample_styles()[1]
    window.styles.select_style(style)
    show_preview(qtbot, window)

    assert [kind for kind, _ in shown[-2:]] == ["quick", "full"]
    quick, full = shown[-2][1].astype(np.int16), shown[-1][1].astype(np.int16)
    expected = engine_render(model_path, photos / "photo0.jpg", style, RenderOptions())
    assert np.abs(full - as_8bit(expected.rgb)).max() <= 1  # the exact preview is the engine's render
    assert quick.shape == full.shape  # the quick pass fills the same frame
    assert np.abs(quick - full).mean() > 1  # and was a different, low-resolution picture


def test_gallery_styles_are_encoded_before_they_are_clicked(qtbot, window, photos: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.prefetch.done, timeout=120_000) as prefetched:
        pass
    styles = sample_styles()
    assert prefetched.args == [len(styles)]
    assert ask_engine(qtbot, window, lambda session: [session.style_encoded(s) for s in styles]) == [True] * len(styles)
    encodings = ask_engine(qtbot, window, lambda session: session.style_encodings())

    window.open_folder(photos)
    window.styles.select_style(styles[3])  # a click in the gallery
    show_preview(qtbot, window)
    assert ask_engine(qtbot, window, lambda session: session.style_encodings()) == encodings


def test_dragging_strength_blends_cached_renders_and_release_renders_exactly(qtbot, window, photos: Path, model_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_folder(photos)
    style = sample_styles()[0]
    window.styles.select_style(style)
    strength = window.styles.strength
    assert strength.value() == 1.0
    show_preview(qtbot, window)
    qtbot.waitUntil(lambda: not window.worker.active_jobs(("idle",)), timeout=120_000)  # renders at the ends

    starts: list[str] = []
    window.worker.job_started.connect(lambda job_id, kind: starts.append(kind))
    canvas = window.preview.canvas
    before = pixels(canvas.result()).astype(np.int16)
    strength.setSliderDown(True)
    strength.setValue(0.5)
    qtbot.wait(800)  # longer than the preview's debounce
    during = pixels(canvas.result()).astype(np.int16)
    ends = [engine_render(model_path, photos / "photo0.jpg", style, RenderOptions(strength=s)).rgb for s in (0.0, 1.0)]
    assert np.abs(during - before).mean() > 1  # the picture followed the slider
    assert np.abs(during - as_8bit((ends[0] + ends[1]) / 2)).max() <= 2  # a blend of the two renders
    assert "preview" not in starts  # without asking the engine

    with qtbot.waitSignal(window.previews.shown, timeout=60_000) as released:
        strength.setSliderDown(False)
    assert released.args[0].request.options.strength == 0.5
    exact = engine_render(model_path, photos / "photo0.jpg", style, RenderOptions(strength=0.5))
    assert np.abs(pixels(canvas.result()).astype(np.int16) - as_8bit(exact.rgb)).max() <= 1
