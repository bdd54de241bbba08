"""The encoder over a photo too large for one pass, in horizontal strips.

CUDA kernels (cuDNN convolution, reflection padding) index a tensor with 32 bits, so one
pass over an 8192² photo fails at relu1_1 (64 × 8192² elements > 2³¹). AdaAttN never needs
relu1_1 or relu2_1 at full size: its keys read them resized to relu3_1's size or smaller
with nearest sampling, which on the encoder's exact halvings is every 4th (relu1_1) and
every 2nd (relu2_1) position. So each strip runs the encoder to relu3_1 with a halo wider
than relu3_1's reach, keeps only those positions, and relu4_1 and relu5_1 follow from the
joined relu3_1 as in one pass. The result equals a one-pass encoding up to float rounding
(tests/test_strip_encoder.py), and the full-size maps never exist whole, which also lowers
the encoder's memory on any device (the Stylizer's low-memory path uses it too).
"""

from __future__ import annotations

import torch

from engine.encoder import STRIDE, VGGEncoder

# Input rows either side of a strip. relu3_1 reads ±10 input rows (five 3×3 convolutions
# and two 2×2 pools); a multiple of STRIDE keeps every strip on the pools' grid.
STRIP_HALO = 16
# relu1_1 elements (64 channels) per strip: half the 32-bit index range, so every layer of
# a strip is safely indexable.
MAX_STRIP_ELEMENTS = 1 << 30
# Where one pass stops being indexable on CUDA: relu1_1 of the padded input.
INDEX_LIMIT = 1 << 31


def fits_one_pass(height: int, width: int) -> bool:
    """Whether a padded (height, width) input's widest map (relu1_1 plus the 1-px reflection
    pad) stays within 32-bit indexing."""
    return 64 * (height + 2) * (width + 2) < INDEX_LIMIT


def strip_rows(width: int) -> int:
    """Rows per strip (a multiple of STRIDE) for an input ``width`` pixels wide."""
    rows = MAX_STRIP_ELEMENTS // (64 * (width + 2)) - 2 * STRIP_HALO
    return max(STRIDE, rows // STRIDE * STRIDE)


def strip_features(encoder: VGGEncoder, image: torch.Tensor, depth: int) -> list[torch.Tensor]:
    """``encoder(image, depth)`` (depth ≥ 3) computed strip by strip, except that relu1_1 and
    relu2_1 come back at relu3_1's size, as the nearest resize to it would give them.
    ``image`` (B, 3, H, W) with H and W multiples of STRIDE."""
    height = image.shape[-2]
    rows = strip_rows(image.shape[-1])
    kept: list[list[torch.Tensor]] = [[], [], []]
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        first, last = max(0, top - STRIP_HALO), min(height, bottom + STRIP_HALO)
        relu1, relu2, relu3 = encoder(image[..., first:last, :], depth=3)
        inner, end = top - first, bottom - first  # the strip's own rows, in input pixels
        # Copies, so each strip's full-size maps are freed before the next strip runs.
        kept[0].append(relu1[..., inner:end:4, ::4].contiguous())
        kept[1].append(relu2[..., inner // 2 : end // 2 : 2, ::2].contiguous())
        kept[2].append(relu3[..., inner // 4 : end // 4, :].contiguous())
        del relu1, relu2, relu3
    shallow = [torch.cat(parts, dim=-2) for parts in kept]
    return encoder.continue_features(shallow, shallow[2], depth)
