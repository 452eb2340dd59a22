"""Switches that make the same training run faster on the hardware at hand, without changing what it computes.

``accel.channels_last`` keeps convolution weights and image batches in NHWC order, the layout in which oneDNN (on
the CPU) and cuDNN's tensor-core kernels (on the GPU) run fastest; the results differ from NCHW only by the order of
floating-point sums. ``accel.precision: bf16`` runs the training step under bfloat16 autocast: convolutions and
matrix products in bf16, weights, optimiser state and losses in float32. Fused optimisers are a per-optimiser
setting (``model.*_optim.fused``), since they belong to how each optimiser is built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Literal

import torch
from torch import nn

from genlab.schema import Section

Switch = Literal["auto"] | bool
"""auto, or true/false (YAML also reads on/off as true/false)."""


class AccelConfig(Section):
    channels_last: Switch = "auto"
    """NHWC memory layout for conv networks and image batches. auto: on for image data (1.16x faster steps for
    the 64x64 DCGAN on a 2-core CPU, see benchmarks/RESULTS.md), off for vector data, where it does not apply."""
    precision: Literal["fp32", "bf16"] = "fp32"
    """bf16: bfloat16 autocast in the training step. It pays on GPUs with bf16 tensor cores (A100, H100); CPUs
    without native bf16 instructions emulate it and run slower, so fp32 is the default."""


class Acceleration:
    """The switches of an :class:`AccelConfig` resolved for one device and one kind of data."""

    def __init__(self, cfg: AccelConfig, device: torch.device, images: bool):
        self.device = device
        self.channels_last = cfg.channels_last is True or (cfg.channels_last == "auto" and images)
        self.bf16 = cfg.precision == "bf16"

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def prepare(self, networks: Iterable[nn.Module]) -> None:
        """Give the networks' 4-d weights the chosen layout (in place; other parameters are left as they are)."""
        if self.channels_last:
            for net in networks:
                net.to(memory_format=torch.channels_last)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """The context a training step runs in: bf16 autocast when asked for, else nothing."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            yield
