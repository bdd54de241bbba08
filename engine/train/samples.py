"""Sample grids: a fixed set of content × style images run through the current network.

Layout: the top row holds the style images, the left column the content images, and cell
(i, j) content i in style j; the top-left corner is blank."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.image_io import save_image
from engine.network import StyleNet


@torch.no_grad()
def stylize_pairs(net: StyleNet, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """content (Nc, 3, S, S), style (Ns, 3, S, S) -> (Nc, Ns, 3, S, S) in [0, 1]."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    rows = []
    for image in content:
        batch = image[None].expand(len(style), -1, -1, -1).to(device)
        rows.append(net(batch, style.to(device)).float().clamp(0, 1).cpu())
    net.train(was_training)
    return torch.stack(rows)


def grid_image(cells: torch.Tensor, content: torch.Tensor, style: torch.Tensor, padding: int = 2) -> torch.Tensor:
    """cells (Nc, Ns, 3, S, S) -> one (3, H, W) image with the style row and content column."""
    from torchvision.utils import make_grid  # here: only training needs torchvision

    n_content, n_style = cells.shape[:2]
    blank = torch.ones_like(content[0])
    tiles = [blank, *style]
    for i in range(n_content):
        tiles += [content[i], *cells[i]]
    return make_grid(torch.stack(tiles), nrow=n_style + 1, padding=padding, pad_value=1.0)


def save_grid(path: Path, image: torch.Tensor) -> Path:
    """(3, H, W) in [0, 1] -> PNG, written atomically."""
    return save_image(path, image.permute(1, 2, 0).numpy())


def render_samples(net: StyleNet, content: torch.Tensor, style: torch.Tensor, path: Path) -> Path:
    cells = stylize_pairs(net, content, style)
    return save_grid(path, grid_image(cells, content, style))
