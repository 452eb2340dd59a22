"""Stabilisation tricks from the lecture notes, as small stateful pieces recipes compose.

Each trick is a config section (its switches) plus, where it keeps state, a runtime object whose state is plain
tensors so checkpoints round-trip it exactly:

* :class:`EMAConfig` / :class:`EMA`: an exponential moving average of a network's weights, used for sampling and
  evaluation ("exponential averaging of weights": the last iterate is biased towards the last batches), with a
  fixed decay per step or a half-life counted in training images (StyleGAN2-ADA), which does not change with the
  batch size;
* :class:`InstanceNoiseConfig`: Gaussian noise on everything D sees, annealed to zero, so real and fake
  distributions overlap early on and D cannot separate them perfectly (Sønderby et al. 2016);
* :class:`ReplayConfig` / :class:`ReplayBuffer`: historical generator batches, a pool of old fakes mixed into D's
  fake batches so D does not forget modes G visited earlier (Shrivastava et al. 2017).
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

import torch
from pydantic import model_validator
from torch import nn

from genlab.schema import Range, Section

DEFAULT_DECAY = 0.999


class EMAConfig(Section):
    decay: Annotated[float, Range(ge=0, lt=1)] | None = None
    """Weight of the old average at each update; 0.999 (the default when half_life_images is not set either)
    averages over roughly the last 1,000 steps."""
    half_life_images: Annotated[float, Range(gt=0)] | None = None
    """Instead of decay: the training images after which an old weight counts half (StyleGAN2-ADA uses 10,000);
    each update then weighs the old average by β = 0.5 ** (batch_size / half_life_images), so the average spans
    the same images whatever the batch size."""
    rampup: Annotated[float, Range(gt=0, le=1)] | None = None
    """With half_life_images: cap the half-life at rampup × the images G has trained on so far (StyleGAN2-ADA:
    0.05), so the average forgets its random start quickly; null: no ramp-up."""
    start: Annotated[int, Range(ge=0)] = 0
    """Copy the weights (no averaging) until this step, so early random weights do not linger in the average."""

    @model_validator(mode="before")
    @classmethod
    def _default_decay(cls, data: Any) -> Any:
        """Neither form given: the per-step decay 0.999, written out so saved configs say what was used."""
        if isinstance(data, dict) and data.get("decay") is None and data.get("half_life_images") is None:
            return {**data, "decay": DEFAULT_DECAY}
        return data

    @model_validator(mode="after")
    def _one_form(self) -> EMAConfig:
        if self.decay is not None and self.half_life_images is not None:
            raise ValueError(
                "decay and half_life_images both set the EMA's decay per step; set one of them and the other to "
                "null (model.tricks.ema.decay: null to count the half-life in images)"
            )
        if self.rampup is not None and self.half_life_images is None:
            raise ValueError("rampup caps half_life_images, which is not set; set half_life_images or rampup: null")
        return self

    def beta(self, images_seen: int, batch_size: int) -> float:
        """Weight of the old average in an update by a batch of ``batch_size`` images, after ``images_seen``."""
        if self.half_life_images is None:
            return self.decay
        half_life = self.half_life_images
        if self.rampup is not None:
            half_life = min(half_life, images_seen * self.rampup)
        return 0.5 ** (batch_size / half_life) if half_life > 0 else 0.0


class EMA:
    """A frozen copy of ``net`` whose parameters track an exponential moving average of ``net``'s.

    Buffers (BatchNorm running statistics) are copied, not averaged: they are already running averages. The images
    G has trained on are counted on the host (the ramp-up needs them) and checkpointed with :meth:`state_dict`.
    """

    def __init__(self, net: nn.Module, cfg: EMAConfig):
        self.cfg = cfg
        self.net = copy.deepcopy(net).eval().requires_grad_(False)
        self._source = net
        self.images_seen = 0

    @torch.no_grad()
    def update(self, step: int, batch_size: int) -> None:
        """Average in the source's weights after training ``step`` on a batch of ``batch_size`` images (all
        processes' together in data-parallel training)."""
        averaged, current = list(self.net.parameters()), list(self._source.parameters())
        if step < self.cfg.start:
            torch._foreach_copy_(averaged, current)
        else:
            torch._foreach_lerp_(averaged, current, 1 - self.cfg.beta(self.images_seen, batch_size))
        self.images_seen += batch_size
        for mine, theirs in zip(self.net.buffers(), self._source.buffers(), strict=True):
            mine.copy_(theirs)

    def state_dict(self) -> dict[str, int]:
        """What the averaged network's own weights do not hold (they are checkpointed as a network)."""
        return {"images_seen": self.images_seen}

    def load_state_dict(self, state: dict) -> None:
        self.images_seen = int(state["images_seen"])


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
