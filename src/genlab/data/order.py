"""Which images make up each batch and how they are augmented: a function of (seed, epoch, position) alone.

Each epoch's order is a permutation derived from (seed, epoch), so the state is three integers (and a count of the
batches drawn) and a resumed run draws exactly the batches the uninterrupted run would have. The last incomplete
batch of an epoch is dropped so every batch has the same shape (what CUDA graphs and BatchNorm want).

In data-parallel training (``world`` processes) every process derives the same order and takes its own ``rank``-th
slice of each global batch of ``world * batch_size`` images: together the processes see exactly the batches that a
single process with the global batch size would.

With ``flip``, a random half of each global batch is mirrored left to right; with ``crop`` (a fraction f), every
image is cut to a random square window of side between f and 1 times its own at a random place and scaled back to
its size (a random resized crop). Both are drawn from (seed, epoch, position) like the order, so they add no state
and resume stays exact, and from the whole global batch, so the slices of data-parallel processes agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from genlab.errors import ConfigError

FLIP_STREAM, CROP_STREAM = 1, 2
"""Extra seed words that keep the flip and crop draws independent of each other and of the epoch orders."""


def mixed_seed(*words: int) -> int:
    """One seed from several integers (the run's seed, an epoch, a step, ...) by numpy's SeedSequence, so that
    neighbouring words give unrelated random streams."""
    return int(np.random.SeedSequence(list(words)).generate_state(1)[0])


class Batch(NamedTuple):
    images: torch.Tensor
    labels: torch.Tensor | None


class Draw(NamedTuple):
    """One batch of this process: which images, and how to augment them."""

    index: torch.Tensor
    """(batch_size,) indices into the set."""
    mirror: torch.Tensor | None
    """(batch_size,) bool: the images to mirror left to right (None without flip)."""
    window: torch.Tensor | None
    """(batch_size, 3): each image's crop window as fractions of its side: side, left, top (None without crop)."""

    def to(self, device: torch.device) -> Draw:
        """The augmentation's tensors on ``device`` (the index stays where it is: it is read where the images are)."""
        return self._replace(
            mirror=None if self.mirror is None else self.mirror.to(device, non_blocking=True),
            window=None if self.window is None else self.window.to(device, non_blocking=True),
        )


class BatchOrder:
    """The indices of each batch of this process and which of them to mirror, from (seed, epoch, position) alone.

    ``device`` holds the epoch's permutation and the flip masks, so drawing an index costs no copy there.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        seed: int,
        device: torch.device | str,
        rank: int,
        world: int,
        flip: bool,
        crop: float | None = None,
    ):
        if batch_size * world > size:
            processes = f" times {world} processes" if world > 1 else ""
            raise ConfigError(
                f"train.batch_size ({batch_size}){processes} is larger than the data set ({size} images); "
                "lower train.batch_size or use more data"
            )
        self.size, self.batch_size, self.device = size, batch_size, torch.device(device)
        self.rank, self.world, self.flip, self.crop = rank, world, flip, crop
        self.seed = seed
        self.epoch = 0
        self.position = 0
        self.batches_drawn = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        mixed = mixed_seed(self.seed, epoch)
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(mixed))
        return order.to(self.device, non_blocking=True)

    def _random(self, stream: int) -> torch.Generator:
        """The generator of one kind of draw (flip, crop) for the global batch at ``self.position``."""
        return torch.Generator().manual_seed(mixed_seed(self.seed, self.epoch, self.position, stream))

    def _local(self, values: torch.Tensor, start: int) -> torch.Tensor:
        """This process's slice (from ``start``) of a draw for the global batch, on the order's device."""
        offset = start - self.position
        return values[offset : offset + self.batch_size].to(self.device, non_blocking=True)

    def _flip_mask(self, start: int) -> torch.Tensor:
        """Which images of this process's slice to mirror: half of the global batch at ``self.position``."""
        step = self.batch_size * self.world
        chosen = torch.randperm(step, generator=self._random(FLIP_STREAM))[: step // 2]
        return self._local(torch.zeros(step, dtype=torch.bool).index_fill_(0, chosen, True), start)

    def _windows(self, start: int, smallest: float) -> torch.Tensor:
        """Each image's crop window: side uniform in [smallest, 1], then its place uniform where it fits."""
        step = self.batch_size * self.world
        random = self._random(CROP_STREAM)
        side = smallest + (1 - smallest) * torch.rand(step, generator=random)
        corner = torch.rand(step, 2, generator=random) * (1 - side)[:, None]
        return self._local(torch.cat([side[:, None], corner], 1), start)

    def next(self) -> Draw:
        """The next batch of this process: its indices into the set and, with flip or crop, its augmentation."""
        step = self.batch_size * self.world
        if self.position + step > self.size:
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position + self.rank * self.batch_size
        index = self._order[start : start + self.batch_size]
        mirror = self._flip_mask(start) if self.flip else None
        window = self._windows(start, self.crop) if self.crop is not None else None
        self.position += step
        self.batches_drawn += 1
        return Draw(index, mirror, window)

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position, "batches_drawn": self.batches_drawn}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]
        self.batches_drawn = state["batches_drawn"]
        self._order = self._permutation(self.epoch)


def augmented(images: torch.Tensor, draw: Draw) -> torch.Tensor:
    """``images`` (N, C, H, W) cut to ``draw``'s windows and mirrored where it says (unchanged without either)."""
    if draw.window is not None:
        images = cropped(images, draw.window)
    if draw.mirror is not None:
        images = torch.where(draw.mirror.view(-1, 1, 1, 1), images.flip(-1), images)
    return images


def cropped(images: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Each of ``images`` cut to its window (side, left, top as fractions of the image side) and scaled back to the
    image size with bilinear interpolation; the windows lie inside the images, so only upscaling happens and
    nothing aliases. A window (1, 0, 0) is the image itself."""
    side, left, top = windows.to(images.dtype).unbind(1)
    theta = torch.zeros(len(images), 2, 3, dtype=images.dtype, device=images.device)
    # affine_grid maps output coordinates in [-1, 1] to input ones: scale by the side, move to the window's centre.
    theta[:, 0, 0], theta[:, 1, 1] = side, side
    theta[:, 0, 2], theta[:, 1, 2] = 2 * left + side - 1, 2 * top + side - 1
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    channels_last = images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous()
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out
