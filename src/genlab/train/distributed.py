"""Data-parallel training on several processes with PyTorch's own engine.

    torchrun --nproc_per_node 4 -m genlab train dcgan-mnist

torchrun starts the processes and sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; :func:`process_group` joins
them (NCCL on GPUs, gloo on the CPU) and every process trains the same recipe on its own slice of each global batch
(``train.batch_size`` images per process), with :class:`~torch.nn.parallel.DistributedDataParallel` averaging the
gradients. BatchNorm becomes SyncBatchNorm on GPUs, so its statistics cover the global batch; on the CPU, where
PyTorch has no SyncBatchNorm, each process normalises its own slice. Only rank 0 writes the run folder (config,
metrics, samples, checkpoints, report); the others train and stay silent.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from genlab.errors import ConfigError


@dataclass(frozen=True)
class World:
    """Where this process stands among the processes of one run."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this process writes the run folder and talks to the user."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world_from_env() -> World:
    """The world torchrun describes in the environment (one process when started without it)."""
    try:
        return World(
            int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))
        )
    except ValueError as exc:
        raise ConfigError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers (as torchrun sets them): {exc}") from None


def use_cuda(device_name: str) -> bool:
    return device_name != "cpu" and torch.cuda.is_available()


@contextlib.contextmanager
def process_group(device_name: str) -> Iterator[World]:
    """Join the run's processes for the duration of a training (nothing to do for a single process)."""
    world = world_from_env()
    if not world.distributed or dist.is_initialized():
        yield world
        return
    if use_cuda(device_name):
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group("nccl" if use_cuda(device_name) else "gloo")
    try:
        yield world
    finally:
        dist.destroy_process_group()


def current_world() -> World:
    """The world of this process, checked to be joined when it has several processes."""
    world = world_from_env()
    if world.distributed and not dist.is_initialized():
        raise ConfigError(
            f"WORLD_SIZE is {world.size} but this process joined no process group: start multi-process training "
            "with `torchrun --nproc_per_node N -m genlab train CONFIG` (or call genlab.fit inside torchrun)"
        )
    return world


def shared_value(value: str, world: World) -> str:
    """Rank 0's ``value`` on every process (for example the run folder name rank 0 chose)."""
    if not world.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return str(box[0])


def data_parallel(net: nn.Module, device: torch.device) -> nn.Module:
    """``net`` under DistributedDataParallel; its BatchNorm layers synchronised on GPUs.

    The parameters stay the same objects, so optimisers built on ``net`` keep working and its state dict (saved by
    rank 0 from the unwrapped ``net``) loads in a single process.
    """
    if device.type == "cuda":
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        return DistributedDataParallel(net, device_ids=[device.index])
    if dist.get_rank() == 0 and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules()):
        print(
            "note: PyTorch has no SyncBatchNorm on the CPU; each process normalises its own batch slice",
            file=sys.stderr,
        )
    return DistributedDataParallel(net)
