"""The lower-memory path a Stylizer switches to after an out-of-memory error: the encoder in
strips (engine/strip_encoder.py), attention in chunks of content positions
(engine/attention.py takes the chunk size) and the decoder in tiles with a halo, which joins
without seams. The tiles also serve outputs past one CUDA pass (LARGE_DECODER_TILE)."""

from __future__ import annotations

import torch

from engine.errors import CancelCallback, check_cancel
from engine.network import StyleNet

# Lower-memory path after an out-of-memory error: attention over this many content
# positions at a time, and the decoder in tiles of this many relu4_1 cells plus a halo
# wider than its receptive field (≈4 cells), so tiles join without seams.
LEAN_ATTENTION_CHUNK = 4096
LEAN_DECODER_TILE = 32
# Tiles for an output past one CUDA pass's 32-bit indexing (engine/strip_encoder.py): 2048
# px plus the halo keeps the decoder's widest map (64 channels) under 2³⁰ elements.
LARGE_DECODER_TILE = 256
DECODER_HALO = 8

def decode_tiled(
    model: StyleNet,
    attended: dict[int, torch.Tensor],
    tile: int,
    cancel: CancelCallback | None = None,
) -> torch.Tensor:
    """The decoder run tile by tile with a halo, equal to the whole-image decode. ``tile`` is
    in relu4_1 cells (8 output pixels each)."""
    deep = model.merge(attended)  # (1, 512, H/8, W/8)
    level3 = attended.get(3)  # (1, 256, H/4, W/4) or None
    h8, w8 = deep.shape[-2:]
    out = deep.new_empty(deep.shape[0], 3, h8 * 8, w8 * 8)
    for y0 in range(0, h8, tile):
        for x0 in range(0, w8, tile):
            check_cancel(cancel)
            y1, x1 = min(y0 + tile, h8), min(x0 + tile, w8)
            ty0, tx0 = max(0, y0 - DECODER_HALO), max(0, x0 - DECODER_HALO)
            ty1, tx1 = min(h8, y1 + DECODER_HALO), min(w8, x1 + DECODER_HALO)
            skip = None if level3 is None else level3[..., 2 * ty0 : 2 * ty1, 2 * tx0 : 2 * tx1]
            piece = model.decoder(deep[..., ty0:ty1, tx0:tx1], skip)
            oy, ox = 8 * (y0 - ty0), 8 * (x0 - tx0)
            out[..., 8 * y0 : 8 * y1, 8 * x0 : 8 * x1] = piece[
                ..., oy : oy + 8 * (y1 - y0), ox : ox + 8 * (x1 - x0)
            ]
    return out
