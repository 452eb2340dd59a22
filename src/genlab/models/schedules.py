"""How a two-player step alternates discriminator and generator updates (balancing heuristics for two-player training).

A schedule receives the recipe's two moves, ``d_step`` and ``g_step``, and decides how many of each to make:

* ``fixed``: k discriminator updates, then one generator update (k = ``model.d_steps``; WGAN uses 5);
* ``adaptive``: update D while its loss is above ``d_threshold``, then G while its loss is above ``g_threshold``,
  each at most ``max_steps`` times;
* ``skip-strong-d``: k D steps as in ``fixed``, but a D step computes its loss without updating D when D already
  spots more than ``accuracy`` of the fakes, so an overpowering discriminator waits for the generator.

The last two decide from loss values, so they read one number from the device per decision; ``fixed`` reads none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol

import torch

from genlab.registry import Registry
from genlab.schema import Range, Section, register_section


@dataclass
class DStepResult:
    """What a discriminator step saw and did; ``fake`` keeps G's graph when the step was asked to keep it."""

    loss: torch.Tensor
    real_out: torch.Tensor
    fake_out: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor
    labels: torch.Tensor | None = None
    """Class labels of the real batch, which a conditional G also generated."""


UpdateRule = Callable[[DStepResult], bool]


class Players(Protocol):
    def d_step(self, keep_graph: bool, update_if: UpdateRule | None = None) -> DStepResult:
        """Draw a real batch and a fake batch, compute D's loss, and update D (unless ``update_if`` says no)."""
        ...

    def g_step(self, last: DStepResult, reuse_fake: bool) -> torch.Tensor:
        """Update G once; ``reuse_fake`` uses ``last.fake`` (drawn with its graph kept) instead of new samples."""
        ...

    def fake_accuracy(self, result: DStepResult) -> torch.Tensor:
        """Fraction of the fakes in ``result`` that D recognises as fake."""
        ...


class Schedule(Section):
    name: str = "fixed"

    def run(self, players: Players, d_steps: int) -> tuple[DStepResult, torch.Tensor, dict[str, torch.Tensor]]:
        """Make one training iteration's moves; returns the last D step, the last G loss and extra scalars to log."""
        raise NotImplementedError


SCHEDULES: Registry[type[Schedule]] = Registry("schedule")


@register_section(SCHEDULES)
class Fixed(Schedule):
    name: str = "fixed"

    def run(self, players: Players, d_steps: int) -> tuple[DStepResult, torch.Tensor, dict[str, torch.Tensor]]:
        # Only the last D step's fakes are reused by G's step, so only they keep G's graph.
        for i in range(d_steps):
            last = players.d_step(keep_graph=i == d_steps - 1)
        return last, players.g_step(last, reuse_fake=True), {}


@register_section(SCHEDULES)
class Adaptive(Schedule):
    name: str = "adaptive"
    d_threshold: float = 0.5
    """Keep training D while its loss is above this."""
    g_threshold: float = 1.0
    """Then keep training G while its loss is above this."""
    max_steps: Annotated[int, Range(ge=1, le=100)] = 5
    """Cap on consecutive updates of either player per iteration."""

    def run(self, players: Players, d_steps: int) -> tuple[DStepResult, torch.Tensor, dict[str, torch.Tensor]]:
        last = players.d_step(keep_graph=False)
        n_d = 1
        while n_d < self.max_steps and float(last.loss) > self.d_threshold:
            last = players.d_step(keep_graph=False)
            n_d += 1
        g_loss = players.g_step(last, reuse_fake=False)
        n_g = 1
        while n_g < self.max_steps and float(g_loss) > self.g_threshold:
            g_loss = players.g_step(last, reuse_fake=False)
            n_g += 1
        device = last.loss.device
        counts = {
            "schedule/d_updates": torch.tensor(float(n_d), device=device),
            "schedule/g_updates": torch.tensor(float(n_g), device=device),
        }
        return last, g_loss, counts


@register_section(SCHEDULES)
class SkipStrongD(Schedule):
    name: str = "skip-strong-d"
    accuracy: Annotated[float, Range(gt=0, le=1)] = 0.95
    """Skip D's update when it recognises more than this fraction of the fakes."""

    def run(self, players: Players, d_steps: int) -> tuple[DStepResult, torch.Tensor, dict[str, torch.Tensor]]:
        updated = 0

        def weak_enough(result: DStepResult) -> bool:
            nonlocal updated
            go = float(players.fake_accuracy(result)) <= self.accuracy
            updated += go
            return go

        for i in range(d_steps):
            last = players.d_step(keep_graph=i == d_steps - 1, update_if=weak_enough)
        g_loss = players.g_step(last, reuse_fake=True)
        return last, g_loss, {"schedule/d_updates": torch.tensor(float(updated), device=last.loss.device)}
