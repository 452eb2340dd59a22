"""Random batches from an image set that lives on the training device.

The whole set is moved to the device once; each epoch's order is a permutation derived from (seed, epoch), so the
sampler's state is three integers and a resumed run draws exactly the batches the uninterrupted run would have.
Batches are gathered by index on the device: no host-to-device copy per step. The last incomplete batch of an
epoch is dropped so every batch has the same shape (what CUDA graphs and BatchNorm want).

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

from genlab.data.base import ImageSet
from genlab.errors import ConfigError

FLIP_STREAM = 1
"""Extra seed word that keeps the flip draws independent of the epoch orders drawn from (seed, epoch)."""


class Batch(NamedTuple):
    images: torch.Tensor
    labels: torch.Tensor | None


class Sampler:
    def __init__(
        self,
        data: ImageSet,
        batch_size: int,
        seed: int,
        device: torch.device | str,
        *,
        memory_format: torch.memory_format = torch.contiguous_format,
        rank: int = 0,
        world: int = 1,
        flip: bool = False,
    ):
        if batch_size * world > len(data):
            processes = f" times {world} processes" if world > 1 else ""
            raise ConfigError(
                f"train.batch_size ({batch_size}){processes} is larger than the data set ({len(data)} images); "
                "lower train.batch_size or use more data"
            )
        if flip and data.images.ndim != 4:
            raise ConfigError("data.flip mirrors images, and this data set holds vectors; set data.flip=false")
        self.data = data.to(device, memory_format)
        self.flip = flip
        self.batch_size = batch_size
        self.rank, self.world = rank, world
        self.seed = seed
        self.epoch = 0
        self.position = 0
        self.batches_drawn = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        mixed = int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0])
        order = torch.randperm(len(self.data), generator=torch.Generator().manual_seed(mixed))
        return order.to(self.data.images.device, non_blocking=True)

    def _flip_mask(self, start: int) -> torch.Tensor:
        """Which images of this process's slice to mirror: half of the global batch at ``self.position``."""
        step = self.batch_size * self.world
        mixed = int(np.random.SeedSequence([self.seed, self.epoch, self.position, FLIP_STREAM]).generate_state(1)[0])
        chosen = torch.randperm(step, generator=torch.Generator().manual_seed(mixed))[: step // 2]
        mask = torch.zeros(step, dtype=torch.bool).index_fill_(0, chosen, True)
        local = mask[start - self.position : start - self.position + self.batch_size]
        return local.to(self.data.images.device, non_blocking=True).view(-1, 1, 1, 1)

    def next(self) -> Batch:
        step = self.batch_size * self.world
        if self.position + step > len(self.data):
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        start = self.position + self.rank * self.batch_size
        index = self._order[start : start + self.batch_size]
        images = self.data.images[index]  # indexing, unlike index_select, keeps channels_last
        if self.flip:
            images = torch.where(self._flip_mask(start), images.flip(-1), images)
        self.position += step
        self.batches_drawn += 1
        labels = None if self.data.labels is None else self.data.labels.index_select(0, index)
        return Batch(images, labels)

    __call__ = next

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position, "batches_drawn": self.batches_drawn}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]
        self.batches_drawn = state["batches_drawn"]
        self._order = self._permutation(self.epoch)
