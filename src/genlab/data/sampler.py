"""Random batches of a data set, in the order :class:`~genlab.data.order.BatchOrder` draws: the same batches and
the same exact resume whether the set lives on the training device or is streamed from disk.

A set in memory is moved to the device once, and batches are gathered by index there: no host-to-device copy per
step. A :class:`~genlab.data.stream.StreamedSet` (a photograph folder larger than ``data.memory_gib``) is read batch
by batch by worker processes instead (:class:`~genlab.data.stream.DiskImages`).
"""

from __future__ import annotations

import torch

from genlab.data.base import ImageSet
from genlab.data.order import Batch, BatchOrder, augmented
from genlab.data.stream import DiskImages, StreamedSet, TrainingSet
from genlab.errors import ConfigError


class DeviceImages:
    """A set held on the training device, batches gathered there by index."""

    def __init__(self, data: ImageSet, device: torch.device | str, memory_format: torch.memory_format):
        self.data = data.to(device, memory_format)

    def draw(self, order: BatchOrder) -> Batch:
        draw = order.next()
        images = augmented(self.data.images[draw.index], draw)  # indexing, unlike index_select, keeps channels_last
        labels = None if self.data.labels is None else self.data.labels.index_select(0, draw.index)
        return Batch(images, labels)

    def restart(self) -> None:
        """Nothing is read ahead of the order, so a restored order needs nothing here."""


class Sampler:
    def __init__(
        self,
        data: TrainingSet,
        batch_size: int,
        seed: int,
        device: torch.device | str,
        *,
        memory_format: torch.memory_format = torch.contiguous_format,
        rank: int = 0,
        world: int = 1,
        flip: bool = False,
        crop: float | None = None,
    ):
        streamed = isinstance(data, StreamedSet)
        # A streamed batch is indexed on the host, where its files are read; a set in memory on its device.
        self.order = BatchOrder(len(data), batch_size, seed, "cpu" if streamed else device, rank, world, flip, crop)
        if flip and len(data.shape) != 3:
            raise ConfigError("data.flip mirrors images, and this data set holds vectors; set data.flip=false")
        if crop is not None and len(data.shape) != 3:
            raise ConfigError("data.random_crop cuts images, and this data set holds vectors; leave it out")
        self.source = DiskImages(data, device, memory_format) if streamed else DeviceImages(data, device, memory_format)
        self.batch_size = batch_size

    @property
    def batches_drawn(self) -> int:
        return self.order.batches_drawn

    @property
    def epoch(self) -> int:
        return self.order.epoch

    def next(self) -> Batch:
        return self.source.draw(self.order)

    __call__ = next

    def state_dict(self) -> dict[str, int]:
        return self.order.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.order.load_state_dict(state)
        self.source.restart()
