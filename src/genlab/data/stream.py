"""Photograph sets too large for the training device, read from disk batch by batch.

:func:`open_dataset` decides, before decoding anything, whether a folder or celeba set goes into memory (and then
onto the device, :class:`~genlab.data.sampler.Sampler`) or stays on disk as a :class:`StreamedSet`: the size is
the file count times the channels and pixels of one image times the 4 bytes of the float32 the set is kept in.
:class:`~genlab.data.sampler.Sampler` then draws its batches through :class:`DiskImages`, which decodes each
batch's files in ``torch.utils.data.DataLoader`` worker processes, a few batches ahead, into pinned memory when
training on CUDA. The batches follow the same :class:`~genlab.data.order.BatchOrder` as those of a set in memory,
so a streamed run draws exactly the batches (images, labels, mirrored halves and crops) of an in-memory one, and resumes
as exactly.
"""

from __future__ import annotations

import copy
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
from torch.utils.data import DataLoader

from genlab.data.base import DataConfig, ImageSet, class_count, finish_images, load_dataset
from genlab.data.folder import PHOTOGRAPHS, ImageFiles
from genlab.data.order import Batch, BatchOrder, augmented
from genlab.errors import DataError

BYTES_PER_VALUE = 4
"""A set in memory is float32 on the device: 4 bytes per channel value of every pixel."""
GIB = 2**30
PREFETCH = 2
"""Batches each worker decodes ahead of the one training takes."""


@dataclass(frozen=True)
class StreamedSet:
    """A photograph set left on disk, with what training and evaluation ask of an :class:`ImageSet` (its length,
    sample shape, labels, classes, :meth:`take`); images are decoded from the files when taken."""

    files: ImageFiles
    cfg: DataConfig

    def __len__(self) -> int:
        return len(self.files)

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def labels(self) -> torch.Tensor | None:
        return self.files.labels

    @property
    def class_names(self) -> tuple[str, ...] | None:
        return self.files.class_names

    @property
    def num_classes(self) -> int | None:
        return class_count(self.labels, self.class_names)

    @property
    def shape(self) -> tuple[int, ...]:
        channels = self.cfg.channels or self.files.channels
        return (2 * channels if self.cfg.pair != "none" else channels, self.cfg.size, self.cfg.size)

    @property
    def nbytes(self) -> int:
        """What the set would take on the device in memory (float32)."""
        channels, height, width = self.shape
        return len(self) * channels * height * width * BYTES_PER_VALUE

    def take(self, index: torch.Tensor) -> torch.Tensor:
        """The images at ``index``, decoded from their files: the values the set in memory holds."""
        return finish_images(self.files.read(index.tolist(), self.cfg.size, self.cfg.fit), self.cfg)

    def in_memory(self) -> ImageSet:
        """Every image decoded, as :func:`~genlab.data.base.load_dataset` gives the set."""
        return ImageSet(self.take(torch.arange(len(self))), self.labels, self.name, self.class_names)


TrainingSet = ImageSet | StreamedSet


@dataclass(frozen=True)
class LoaderChoice:
    loader: Literal["memory", "stream"]
    message: str | None
    """The line that says which path was taken and why; None for data sets that always load into memory."""


def worker_count(cfg: DataConfig) -> int:
    """``data.workers``, by default min(4, CPU count)."""
    return min(4, os.cpu_count() or 1) if cfg.workers is None else cfg.workers


def open_dataset(cfg: DataConfig) -> tuple[TrainingSet, LoaderChoice]:
    """The data set of ``cfg`` in memory, or streamed when ``data.loader`` says so (auto: when a folder or celeba
    set is larger than ``data.memory_gib``), with the choice made."""
    if cfg.name not in PHOTOGRAPHS:
        return load_dataset(cfg), LoaderChoice("memory", None)
    files = PHOTOGRAPHS.get(cfg.name)(cfg)
    streamed = StreamedSet(files.kept(cfg), cfg)
    if not len(streamed):
        raise DataError(f"data.half: {cfg.half} keeps none of the {len(files)} image(s) of '{cfg.name}'; add images")
    over = streamed.nbytes > cfg.memory_gib * GIB
    stream = cfg.loader == "stream" or (cfg.loader == "auto" and over)
    choice = LoaderChoice("stream" if stream else "memory", choice_message(streamed, stream, over))
    return (streamed if stream else streamed.in_memory()), choice


def choice_message(data: StreamedSet, stream: bool, over: bool) -> str:
    """E.g. 'data: 120,000 images of 3x64x64 would take 5.49 GiB on the device, more than data.memory_gib=2:
    streaming from disk with 4 worker processes (data.loader=memory forces memory)'."""
    cfg = data.cfg
    size = f"{len(data):,} images of {'x'.join(str(d) for d in data.shape)}"
    workers = worker_count(cfg)
    readers = f"{workers} worker processes" if workers else "no worker processes (data.workers=0)"
    if cfg.loader == "stream":
        return f"data: streaming {size} from disk with {readers}, as data.loader=stream asks"
    budget = f"{'more than' if over else 'within'} data.memory_gib={cfg.memory_gib:g}"
    if cfg.loader == "memory":
        return f"data: {size} take {amount(data.nbytes)} on the device, {budget}: in memory, as data.loader=memory asks"
    if stream:
        return (
            f"data: {size} would take {amount(data.nbytes)} on the device, {budget}: streaming from disk with "
            f"{readers} (data.loader=memory forces memory)"
        )
    return f"data: {size} take {amount(data.nbytes)} on the device, {budget}: in memory (data.loader=stream streams)"


def amount(nbytes: int) -> str:
    """A byte count in GiB, or in MiB below one GiB (three significant digits)."""
    return f"{nbytes / GIB:.3g} GiB" if nbytes >= GIB else f"{nbytes / 2**20:.3g} MiB"


def leave_stop_signals_to_training(worker_id: int) -> None:
    """Workers ignore Ctrl-C and SIGTERM, which a terminal sends them too: the training process answers them by
    finishing its step (whose batches the workers must still read), saving a checkpoint and stopping them."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


class BatchReader(torch.utils.data.Dataset):
    """Decodes one batch of files per item; runs in the loader's worker processes.

    A file that cannot be read comes back as its DataError's message rather than as an exception, which the
    loader would re-raise wrapped in the worker's traceback: the sampler raises it as the user's DataError.
    """

    def __init__(self, data: StreamedSet):
        self.data = data

    def __getitem__(self, indices: list[int]) -> torch.Tensor | str:
        try:
            return self.data.take(torch.tensor(indices, dtype=torch.int64))
        except DataError as exc:
            return str(exc)


class Upcoming:
    """The indices of every batch from a sampler's current position on, for the loader to read ahead."""

    def __init__(self, order: BatchOrder):
        self.order = copy.copy(order)  # advancing this copy leaves the sampler's own state (what it has drawn) alone

    def __iter__(self) -> Iterator[list[int]]:
        while True:
            yield self.order.next().index.tolist()


class DiskImages:
    """A :class:`StreamedSet`'s batches for :class:`~genlab.data.sampler.Sampler`, each read from disk by worker
    processes while the ones before it train, copied to the device without blocking (from pinned memory on CUDA)."""

    def __init__(self, data: StreamedSet, device: torch.device | str, memory_format: torch.memory_format):
        self.data, self.device, self.memory_format = data, torch.device(device), memory_format
        self.workers = worker_count(data.cfg)
        self._batches: Iterator[torch.Tensor | str] | None = None

    def _read_ahead(self, order: BatchOrder) -> Iterator[torch.Tensor | str]:
        """The batches from ``order``'s position on, decoded by the workers (their start costs about a second)."""
        loader = DataLoader(
            BatchReader(self.data),
            batch_size=None,  # each item is a whole batch, read by one worker
            sampler=Upcoming(order),
            num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
            prefetch_factor=PREFETCH if self.workers else None,
            generator=torch.Generator(),  # the loader draws its workers' seeds: not from the training's random state
            worker_init_fn=leave_stop_signals_to_training,
        )
        return iter(loader)

    def draw(self, order: BatchOrder) -> Batch:
        if self._batches is None:
            self._batches = self._read_ahead(order)
        draw = order.next()
        images = next(self._batches)
        if isinstance(images, str):
            self.restart()
            raise DataError(images)
        images = images.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        images = augmented(images, draw.to(self.device))
        labels = None if self.data.labels is None else self.data.labels[draw.index].to(self.device, non_blocking=True)
        return Batch(images, labels)

    def restart(self) -> None:
        """Drop what was read ahead (stopping the workers): the order has moved, reading resumes from there."""
        self._batches = None
