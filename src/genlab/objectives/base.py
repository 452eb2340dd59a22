"""The interface every GAN objective implements.

An objective turns the discriminator's raw outputs (logits, or critic values for Wasserstein-type objectives) into
the two players' losses. It knows nothing about optimisers, data or logging; recipes call it. Objectives that need
more than the outputs use the two hooks: :meth:`Objective.penalty` (e.g. a gradient penalty, added to D's loss)
and :meth:`Objective.after_d_step` (e.g. weight clipping). Parameters are validated fields, so an objective is
also its own config section: ``objective: {name: nonsaturating}``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from genlab.registry import Registry
from genlab.schema import Section


class Objective(Section):
    name: str = "nonsaturating"

    uses_real_in_g_loss: ClassVar[bool] = False
    """Relativistic objectives compare fakes with reals in G's loss; the recipe then passes D(real) to g_loss."""

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        """Discriminator loss to minimise, from D's outputs on a real and a generated batch."""
        raise NotImplementedError

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        """Generator loss to minimise, from D's outputs on a generated batch (and on a real one if it needs it)."""
        raise NotImplementedError

    def penalty(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """Extra term added to the discriminator loss (None when the objective has none)."""
        return None

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Called after every discriminator update (weight clipping and the like)."""

    def probability(self, out: torch.Tensor) -> torch.Tensor:
        """D's output as the probability that the input is real, for logging D(x) and D(G(z)).

        Logit-based objectives read it through the sigmoid; critics that output unbounded scores override this.
        """
        return torch.sigmoid(out)


OBJECTIVES: Registry[type[Objective]] = Registry("objective")
