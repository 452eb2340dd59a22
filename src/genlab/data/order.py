"""Which images make up each batch and which of them are mirrored: a function of (seed, epoch, position) alone.

Each epoch's order is a permutation derived from (seed, epoch), so the state is three integers (and a count of the
batches drawn) and a resumed run draws exactly the batches the uninterrupted run would have. The last incomplete
batch of an epoch is dropped so every batch has the same shape (what CUDA graphs and BatchNorm want).

In data-parallel training (``world`` processes) every process derives the same order and takes its own ``rank``-th
slice of each global batch of ``world * batch_size`` images: together the processes see exactly the batches that a
single process with the global batch size would.

With ``flip``, a random half of each global batch is mirrored left to right; which half is drawn from (seed,
epoch, position) like the order, so flipping adds no state and resume stays exact.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from genlab.errors import ConfigError

FLIP_STREAM = 1
"""Extra seed word that keeps the flip draws independent of the epoch orders drawn from (seed, epoch)."""


class Batch(NamedTuple):
    images: torch.Tensor
    labels: torch.Tensor | None


class BatchOrder:
    """The indices of each batch of this process and which of them to mirror, from (seed, epoch, position) alone.

    ``device`` holds the epoch's permutation and the flip masks, so drawing an index costs no copy there.
    """

    def __init__(
        self, size: int, batch_size: int, seed: int, device: torch.device | str, rank: int, world: int, flip: bool
    ):
        if batch_size * world > size:
            processes = f" times {world} processes" if world > 1 else ""
            raise ConfigError(
                f"train.batch_size ({batch_size}){processes} is larger than the data set ({size} images); "
                "lower train.batch_size or use more data"
            )
        self.size, self.batch_size, self.device = size, batch_size, torch.device(device)
        self.rank, self.world, self.flip = rank, world, flip
        self.seed = seed
        self.epoch = 0
        self.position = 0
        self.batches_drawn = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        mixed = int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0])
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(mixed))
        return order.to(self.device, non_blocking=True)

    def _flip_mask(self, start: int) -> torch.Tensor:
        """Which images of this process's slice to mirror: half of the global batch at ``self.position``."""
        step = self.batch_size * self.world
        mixed = int(np.random.SeedSequence([self.seed, self.epoch, self.position, FLIP_STREAM]).generate_state(1)[0])
        chosen = torch.randperm(step, generator=torch.Generator().manual_seed(mixed))[: step // 2]
        mask = torch.zeros(step, dtype=torch.bool).index_fill_(0, chosen, True)
        local = mask[start - self.position : start - self.position + self.batch_size]
        return local.to(self.device, non_blocking=True)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch's indices into the set and, with flip, its (batch_size,) mask of images to mirror."""
        step = self.batch_size * self.world
        if self.position + step > self.size:
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position + self.rank * self.batch_size
        index = self._order[start : start + self.batch_size]
        mirror = self._flip_mask(start) if self.flip else None
        self.position += step
        self.batches_drawn += 1
        return index, mirror

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position, "batches_drawn": self.batches_drawn}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]
        self.batches_drawn = state["batches_drawn"]
        self._order = self._permutation(self.epoch)


def mirrored(images: torch.Tensor, mirror: torch.Tensor | None) -> torch.Tensor:
    """``images`` with those that ``mirror`` marks flipped left to right (all unchanged without a mask)."""
    return images if mirror is None else torch.where(mirror.view(-1, 1, 1, 1), images.flip(-1), images)
