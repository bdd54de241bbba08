"""The live loss curves on a long history: what is drawn is a min/max envelope that keeps
every spike, built incrementally yet equal to one built in one go; a short history is drawn
point for point; the view stays put while new points fit in it and moves when one does not."""

from __future__ import annotations

import numpy as np

from styler_app.training.curve_envelope import MAX_POINTS, Envelope
from styler_app.training.loss_plot import LossPlot


def history(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = np.arange(1, count + 1, dtype=float)
    loss = 10 / (1 + steps / 500) + 0.1 * rng.random(count)
    loss[spikes(count)] = [50.0, -3.0, 40.0]  # spikes a plot must not hide
    return steps, loss


def spikes(count: int) -> list[int]:
    return [777, count // 3 + 1, count * 7 // 9]


def test_the_envelope_grows_in_slices_as_it_would_in_one_go() -> None:
    steps, loss = history(100_000)
    rng = np.random.default_rng(1)
    live = Envelope()
    end = 0
    while end < len(steps):  # as a long history loads and a run then logs line by line
        end = min(len(steps), end + int(rng.choice([1, 3, 250, 4000])))
        x, y = live.points(steps[:end], loss[:end])
    whole = Envelope().points(steps, loss)
    np.testing.assert_array_equal(x, whole[0])
    np.testing.assert_array_equal(y, whole[1])
    assert len(x) <= MAX_POINTS + live.width and np.all(np.diff(x) > 0) and x[-1] == steps[-1]
    for spike in spikes(len(steps)):
        assert steps[spike] in x and loss[spike] in y
    index = np.searchsorted(steps, x)  # every drawn point is a logged point
    np.testing.assert_array_equal(loss[index], y)
    short = Envelope().points(steps[:MAX_POINTS], loss[:MAX_POINTS])
    assert short[0] is not None and len(short[0]) == MAX_POINTS  # a short history, point for point


def records(steps: np.ndarray, loss: np.ndarray) -> list[dict[str, float]]:
    return [{"step": s, "loss": v, "global": v / 10, "local": v / 20, "skew": 0.0} for s, v in zip(steps, loss, strict=True)]


def shown_range(plot: LossPlot) -> list[list[float]]:
    """The view's range as painted (pyqtgraph fits the range when it paints)."""
    plot.grab()
    return plot.plot.getViewBox().viewRange()


def test_live_updates_draw_the_full_history_and_move_the_view_only_when_needed(qtbot) -> None:  # type: ignore[no-untyped-def]
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 420)
    plot.show()
    steps, loss = history(20_000)
    for start in range(0, len(steps) - 10, 250):  # the history, in RunMonitor-sized slices
        end = min(start + 250, len(steps) - 10)
        plot.append(records(steps[start:end], loss[start:end]))
    plot.redraw()
    view = shown_range(plot)
    assert view[0][1] >= steps[-11] and view[1][0] <= -3.0 and view[1][1] >= 50.0
    for i in range(len(steps) - 10, len(steps)):  # then live, a line at a time, inside the view
        plot.append(records(steps[i : i + 1], loss[i : i + 1]))
        plot.redraw()
        assert shown_range(plot) == view
    x, y = plot.curves["loss"].getData()
    whole = Envelope().points(steps, loss)
    np.testing.assert_array_equal(x, whole[0])
    np.testing.assert_array_equal(y, whole[1])

    plot.append(records(np.array([20_001.0]), np.array([500.0])))  # a spike far above the view
    plot.redraw()
    (x0, x1), (y0, y1) = shown_range(plot)
    assert x1 >= 20_001 and y0 <= -3.0 and y1 >= 500.0  # everything, the spike included, in view
    # The view moved with room to spare: a little higher still fits without moving it again.
    plot.append(records(np.array([20_002.0]), np.array([520.0])))
    plot.redraw()
    assert shown_range(plot) == [[x0, x1], [y0, y1]]
