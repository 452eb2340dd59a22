"""Stabilisation tricks from the lecture notes, as small stateful pieces recipes compose.

Each trick is a config section (its switches) plus, where it keeps state, a runtime object whose state is plain
tensors so checkpoints round-trip it exactly:

* :class:`EMAConfig` / :class:`EMA`: an exponential moving average of a network's weights, used for sampling and
  evaluation ("exponential averaging of weights": the last iterate is biased towards the last batches);
* :class:`InstanceNoiseConfig`: Gaussian noise on everything D sees, annealed to zero, so real and fake
  distributions overlap early on and D cannot separate them perfectly (Sønderby et al. 2016);
* :class:`ReplayConfig` / :class:`ReplayBuffer`: historical generator batches, a pool of old fakes mixed into D's
  fake batches so D does not forget modes G visited earlier (Shrivastava et al. 2017).
"""

from __future__ import annotations

import copy
from typing import Annotated

import torch
from torch import nn

from genlab.schema import Range, Section


class EMAConfig(Section):
    decay: Annotated[float, Range(ge=0, lt=1)] = 0.999
    """Weight of the old average at each update; 0.999 averages over roughly the last 1,000 steps."""
    start: Annotated[int, Range(ge=0)] = 0
    """Copy the weights (no averaging) until this step, so early random weights do not linger in the average."""


class EMA:
    """A frozen copy of ``net`` whose parameters track an exponential moving average of ``net``'s.

    Buffers (BatchNorm running statistics) are copied, not averaged: they are already running averages.
    """

    def __init__(self, net: nn.Module, cfg: EMAConfig):
        self.cfg = cfg
        self.net = copy.deepcopy(net).eval().requires_grad_(False)
        self._source = net

    @torch.no_grad()
    def update(self, step: int) -> None:
        averaged, current = list(self.net.parameters()), list(self._source.parameters())
        if step < self.cfg.start:
            torch._foreach_copy_(averaged, current)
        else:
            torch._foreach_lerp_(averaged, current, 1 - self.cfg.decay)
        for mine, theirs in zip(self.net.buffers(), self._source.buffers(), strict=True):
            mine.copy_(theirs)


class InstanceNoiseConfig(Section):
    std: Annotated[float, Range(ge=0)] = 0.1
    """Standard deviation of the noise added to D's inputs at step 0 (data units; images span [-1, 1])."""
    anneal_steps: Annotated[int, Range(ge=0)] = 0
    """Steps over which the std falls linearly to 0; 0 keeps it constant."""

    def std_at(self, step: int) -> float:
        if self.anneal_steps == 0:
            return self.std
        return self.std * max(0.0, 1.0 - step / self.anneal_steps)


class ReplayConfig(Section):
    size: Annotated[int, Range(ge=1)] = 1024
    """Old fakes kept in the pool."""
    fraction: Annotated[float, Range(gt=0, lt=1)] = 0.5
    """Share of each fake batch D sees that comes from the pool (once the pool holds that many)."""


class ReplayBuffer:
    """A pool of past generated samples; each batch half-refreshes it and borrows from it.

    Every call to :meth:`mix` swaps a ``fraction`` of the batch for random pool entries and then stores as many of
    the newest fakes in random pool slots (Shrivastava et al.'s scheme), all on the device, so there is no host
    round trip. Sampling uses the global
    torch RNG, whose state checkpoints already save.
    """

    def __init__(self, cfg: ReplayConfig, shape: tuple[int, ...], device: torch.device):
        self.cfg = cfg
        self.pool = torch.zeros((cfg.size, *shape), device=device)
        self.filled = 0

    def mix(self, fake: torch.Tensor) -> torch.Tensor:
        """``fake`` (detached) with part of it replaced by old fakes; stores part of ``fake`` for later."""
        fake = fake.detach()
        n = len(fake)
        borrow = min(round(n * self.cfg.fraction), self.filled)
        out = fake
        if borrow > 0:
            old = self.pool[torch.randint(self.filled, (borrow,), device=fake.device)]
            out = torch.cat([fake[: n - borrow], old])
        store = min(max(1, round(n * self.cfg.fraction)), self.cfg.size)
        if self.filled < self.cfg.size:
            take = min(store, self.cfg.size - self.filled)
            self.pool[self.filled : self.filled + take] = fake[:take]
            self.filled += take
        else:
            slots = torch.randperm(self.cfg.size, device=fake.device)[:store]
            self.pool[slots] = fake[:store]
        return out

    def state_dict(self) -> dict[str, torch.Tensor | int]:
        return {"pool": self.pool.clone(), "filled": self.filled}

    def load_state_dict(self, state: dict) -> None:
        self.pool.copy_(state["pool"])
        self.filled = int(state["filled"])
