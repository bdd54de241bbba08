"""A content photo as a Stylizer holds it between renders: its encoder features and what a
render of one box of it (a mask's region) has to attend to and decode."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.compose import Box
from engine.encoder import STRIDE
from engine.lean_decode import DECODER_HALO
from engine.network import Features

# A window render decodes this much context around the box and throws it away: 8 relu4_1
# cells, twice the decoder's receptive field (as the tiled decoder's halo).
WINDOW_HALO = 8 * DECODER_HALO
# Above this share of the padded photo a window saves too little: the whole photo is
# rendered (and cached) and the window cut from it.
MAX_WINDOW_SHARE = 0.6


@dataclass
class EncodedContent:
    key: str
    rgb: np.ndarray  # original pixels, for colour preservation
    size: tuple[int, int]  # (H, W) before padding
    padded: tuple[int, int]  # (H, W) after padding to the stride
    features: Features

    def work_area(self, window: Box | None) -> Box | None:
        """What a render of ``window`` attends to and decodes: the window plus the halo, on
        the STRIDE grid, inside the padded photo. None: render the whole photo."""
        if window is None:
            return None
        top, left, bottom, right = window
        grid = (
            max(0, (top - WINDOW_HALO) // STRIDE * STRIDE),
            max(0, (left - WINDOW_HALO) // STRIDE * STRIDE),
            min(self.padded[0], math.ceil((bottom + WINDOW_HALO) / STRIDE) * STRIDE),
            min(self.padded[1], math.ceil((right + WINDOW_HALO) / STRIDE) * STRIDE),
        )
        share = (grid[2] - grid[0]) * (grid[3] - grid[1]) / (self.padded[0] * self.padded[1])
        return grid if share <= MAX_WINDOW_SHARE else None
