"""Switches that make the same training run faster on the hardware at hand, without changing what it computes.

``accel.channels_last`` keeps convolution weights and image batches in NHWC order, the layout in which oneDNN (on
the CPU) and cuDNN's tensor-core kernels (on the GPU) run fastest; the results differ from NCHW only by the order of
floating-point sums. ``accel.precision: bf16`` runs the training step under bfloat16 autocast: convolutions and
matrix products in bf16, weights, optimiser state and losses in float32. ``accel.compile`` trains through
``torch.compile``d networks; on a CUDA GPU in its ``reduce-overhead`` mode, which replays each network's forward and
backward pass as a CUDA graph, one launch instead of dozens of small kernels (the cost that dominates a small GAN on
a fast GPU). Fused optimisers are a per-optimiser setting (``model.*_optim.fused``), since they belong to how each
optimiser is built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Literal

import torch
from torch import nn

from genlab.errors import ConfigError
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
    compile: bool = False
    """Train through torch.compile'd networks (CUDA graphs on a GPU; see the module docstring). The first steps
    pay the compilation (about 20 s for the 64x64 DCGAN on a 2-core CPU). Off by default: on that CPU it was no
    faster (benchmarks/RESULTS.md), and its GPU gain has not been measured yet. Recipes say which parts they can
    compile (a GAN's D with a gradient penalty stays eager: torch.compile cannot differentiate twice)."""


class Acceleration:
    """The switches of an :class:`AccelConfig` resolved for one device and one kind of data."""

    def __init__(self, cfg: AccelConfig, device: torch.device, images: bool):
        self.device = device
        self.channels_last = cfg.channels_last is True or (cfg.channels_last == "auto" and images)
        self.bf16 = cfg.precision == "bf16"
        self.compile = cfg.compile
        # CUDA graphs need a GPU; on the CPU torch.compile's default mode fuses kernels with its C++ backend.
        self.compile_mode = "reduce-overhead" if device.type == "cuda" else "default"

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def prepare(self, networks: Iterable[nn.Module]) -> None:
        """Give the networks' 4-d weights the chosen layout (in place; other parameters are left as they are)."""
        if self.channels_last:
            for net in networks:
                net.to(memory_format=torch.channels_last)

    def compiled(self, net: nn.Module) -> nn.Module:
        """``net`` through torch.compile in this device's mode; it shares ``net``'s parameters and buffers."""
        return torch.compile(net, mode=self.compile_mode)

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """The context a training step runs in: bf16 autocast when asked for. With CUDA graphs it first tells
        torch that the previous step's outputs are dead, so their graph memory can be reused by this step. A
        compiler failure (no C++ compiler for the CPU backend, no Triton for the GPU one) becomes a ConfigError."""
        if self.compile and self.device.type == "cuda":
            torch.compiler.cudagraph_mark_step_begin()
        try:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                yield
        except torch._dynamo.exc.BackendCompilerFailed as exc:
            reason = str(exc).strip().splitlines()[0]
            raise ConfigError(
                f"accel.compile: torch.compile could not compile a training network ({reason}); "
                "set accel.compile: false to train without it"
            ) from exc
