"""What a loss curve draws of a long history: a min/max envelope that keeps spikes visible
while a 100 000-step curve draws as fast as a short one, kept up to date in time
proportional to the new points (a live update must not redo the whole history)."""

from __future__ import annotations

import numpy as np

MAX_POINTS = 2000  # per curve on screen; a shorter history is drawn as it is


class GrowingArray:
    """A float array that grows at its end (amortised appends)."""

    def __init__(self) -> None:
        self._data = np.empty(1024)
        self.size = 0

    def extend(self, values: list[float] | np.ndarray) -> None:
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.empty(max(needed, 2 * len(self._data)))
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed

    def truncate(self, size: int) -> None:
        self.size = min(self.size, size)

    def view(self) -> np.ndarray:
        return self._data[: self.size]


def bin_extremes(x: np.ndarray, y: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each run of ``width`` points (len(x) is a multiple of it) as its lowest and its highest
    point, in step order. A bin of NaNs (a term a run did not log) keeps NaN: a gap."""
    xs, ys = x.reshape(-1, width), y.reshape(-1, width)
    missing = np.isnan(ys)
    low = np.where(missing, np.inf, ys).argmin(axis=1)
    high = np.where(missing, -np.inf, ys).argmax(axis=1)
    first, second = np.minimum(low, high), np.maximum(low, high)
    rows = np.arange(len(ys))
    return (np.stack([xs[rows, first], xs[rows, second]], axis=1).ravel(),
            np.stack([ys[rows, first], ys[rows, second]], axis=1).ravel())


class Envelope:
    """The envelope of one growing series. Complete bins of ``width`` points (a power of
    two) are stored as their two extremes; past ``max_points`` stored points, neighbouring
    bins merge (the extremes of two bins are among their four stored points) and the width
    doubles. The newest, incomplete bin is drawn as it is."""

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        self.max_points = max_points
        self.reset()

    def reset(self) -> None:
        """Forget everything (the series was replaced, e.g. smoothed differently)."""
        self.width = 2
        self._covered = 0  # points of the series inside complete bins
        self._x, self._y = GrowingArray(), GrowingArray()

    def points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x``, ``y``: the whole series so far, which has only grown since the last call."""
        if len(x) <= self.max_points:
            return x, y
        complete = (len(x) - self._covered) // self.width * self.width
        if complete:
            end = self._covered + complete
            bx, by = bin_extremes(x[self._covered : end], y[self._covered : end], self.width)
            self._x.extend(bx)
            self._y.extend(by)
            self._covered = end
        while self._x.size > self.max_points:
            self._merge()
        return (np.concatenate([self._x.view(), x[self._covered :]]),
                np.concatenate([self._y.view(), y[self._covered :]]))

    def _merge(self) -> None:
        if self._x.size // 2 % 2:  # an odd bin out: back to raw points until it has a partner
            self._x.truncate(self._x.size - 2)
            self._y.truncate(self._y.size - 2)
            self._covered -= self.width
        mx, my = bin_extremes(self._x.view(), self._y.view(), 4)
        self._x, self._y = GrowingArray(), GrowingArray()
        self._x.extend(mx)
        self._y.extend(my)
        self.width *= 2
