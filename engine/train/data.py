"""Training data: content/style image folders as one deterministic stream of pairs.

Sample number ``g`` (0, 1, 2, … over the whole run) fully determines its pair and its
augmentation: content = a permutation of the content folder seeded by (seed, epoch),
style and crop/flip drawn from a generator seeded by (seed, g). So the data order does not
depend on worker count or on where a run was interrupted, which is what makes ``--resume``
reproduce an uninterrupted run exactly. ``StreamSampler`` hands each DDP rank its share.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset, Sampler

from engine.encoder import STRIDE
from engine.errors import StylerError
from engine.image_files import is_image_path


def find_images(folder: str | Path, what: str) -> list[Path]:
    """Every image below ``folder`` (recursive, sorted for a stable order)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StylerError(f"{folder}: {what} folder not found (give a folder of images)")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and is_image_path(p))
    if not paths:
        raise StylerError(f"{folder}: no images (JPEG, PNG, WebP, BMP, TIFF) in this {what} folder or below it")
    return paths


def check_sizes(load_size: int, crop_size: int) -> None:
    if crop_size <= 0 or crop_size % STRIDE:
        raise StylerError(f"--crop-size {crop_size}: must be a positive multiple of {STRIDE}")
    if load_size < crop_size:
        raise StylerError(f"--load-size {load_size} is smaller than --crop-size {crop_size}")


def _seed(*parts: int) -> int:
    # SeedSequence mixes the parts so that neighbouring sample numbers get unrelated streams.
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def open_rgb(path: Path) -> Image.Image:
    """Upright RGB image; raises OSError-family errors for unreadable files."""
    with Image.open(path) as img:
        upright = ImageOps.exif_transpose(img)
        return upright.convert("RGB")


_UNREADABLE = (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError)


class PairStream(Dataset[dict[str, Any]]):
    """``stream[g]`` -> {"content": (3, crop, crop), "style": (3, crop, crop), "skipped": [paths]}.

    Images are resized to load×load (as the release does), randomly cropped and flipped.
    An unreadable file is replaced by the next one in its folder's order and reported in
    "skipped", so the caller can warn and count it without the run failing."""

    def __init__(
        self, content: list[Path], style: list[Path], load_size: int, crop_size: int, seed: int
    ) -> None:
        self.content = content
        self.style = style
        self.load_size = load_size
        self.crop_size = crop_size
        self.seed = seed
        self._order_epoch = -1
        self._order: list[int] = []

    def __len__(self) -> int:
        # One epoch: every content image once. The stream itself is unbounded.
        return len(self.content)

    def _content_order(self, epoch: int) -> list[int]:
        if epoch != self._order_epoch:
            gen = torch.Generator().manual_seed(_seed(self.seed, epoch, 0))
            self._order = torch.randperm(len(self.content), generator=gen).tolist()
            self._order_epoch = epoch
        return self._order

    def __getitem__(self, g: int) -> dict[str, Any]:
        epoch, position = divmod(g, len(self.content))
        gen = torch.Generator().manual_seed(_seed(self.seed, g, 1))
        skipped: list[str] = []
        content_index = self._content_order(epoch)[position]
        style_index = int(torch.randint(len(self.style), (1,), generator=gen))
        content = self._load(self.content, content_index, gen, skipped)
        style = self._load(self.style, style_index, gen, skipped)
        return {"content": content, "style": style, "skipped": skipped}

    def _load(self, paths: list[Path], index: int, gen: torch.Generator, skipped: list[str]) -> torch.Tensor:
        # The draws happen before loading, so a skipped file does not shift later samples.
        span = self.load_size - self.crop_size + 1
        top, left = (int(v) for v in torch.randint(span, (2,), generator=gen))
        flip = bool(torch.rand((), generator=gen) < 0.5)
        import torchvision.transforms.functional as TF  # here: only training needs torchvision

        for offset in range(len(paths)):
            path = paths[(index + offset) % len(paths)]
            try:
                img = open_rgb(path)
            except _UNREADABLE:
                skipped.append(str(path))
                continue
            img = TF.resize(img, [self.load_size, self.load_size], antialias=True)
            img = TF.crop(img, top, left, self.crop_size, self.crop_size)
            if flip:
                img = TF.hflip(img)
            return TF.to_tensor(img)
        raise StylerError(f"{paths[0].parent}: none of the {len(paths)} images could be read")


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "content": torch.stack([s["content"] for s in samples]),
        "style": torch.stack([s["style"] for s in samples]),
        "skipped": [p for s in samples for p in s["skipped"]],
    }


class StreamSampler(Sampler[int]):
    """Sample numbers for steps [start_step, end_step) of this rank.

    Global step s uses sample numbers s·B·W … (s+1)·B·W − 1; rank r takes its contiguous
    slice of B. Like DistributedSampler it shards across ranks, but it can start in the
    middle of an epoch, which resuming needs."""

    def __init__(self, start_step: int, end_step: int, batch_size: int, rank: int = 0, world_size: int = 1) -> None:
        self.start_step = start_step
        self.end_step = end_step
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size

    def __iter__(self) -> Iterator[int]:
        for step in range(self.start_step, self.end_step):
            base = (step * self.world_size + self.rank) * self.batch_size
            yield from range(base, base + self.batch_size)

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step) * self.batch_size


def make_loader(
    stream: PairStream, sampler: StreamSampler, workers: int, pin_memory: bool = False
) -> DataLoader[dict[str, Any]]:
    return DataLoader(
        stream,
        batch_size=sampler.batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if workers else None,
        worker_init_fn=_ignore_interrupts,
    )


def _ignore_interrupts(worker_id: int) -> None:
    # Ctrl-C reaches the whole process group; the training process alone decides how to
    # stop (checkpoint first), and a worker dying on SIGINT would only derail that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class SkipLog:
    """Warns once per unreadable file and counts them."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.paths: set[str] = set()
        self.log = log

    def add(self, paths: list[str]) -> None:
        for path in paths:
            if path not in self.paths:
                self.paths.add(path)
                self.log(f"warning: {path}: unreadable image skipped")

    def __len__(self) -> int:
        return len(self.paths)


def fixed_images(paths: list[Path], count: int, size: int) -> torch.Tensor:
    """The first ``count`` readable images, resized and centre-cropped to size×size:
    a fixed set for sample grids. -> (N, 3, size, size)"""
    import torchvision.transforms.functional as TF  # here: only training needs torchvision

    images = []
    for path in paths:
        try:
            img = open_rgb(path)
        except _UNREADABLE:
            continue
        img = TF.center_crop(TF.resize(img, size, antialias=True), [size, size])
        images.append(TF.to_tensor(img))
        if len(images) == count:
            break
    if not images:
        raise StylerError(f"{paths[0].parent}: none of the {len(paths)} images could be read")
    return torch.stack(images)
