"""Least-squares GAN (Mao et al. 2017) with the targets (a, b, c) = (0, 1, 1):

    J(D) = 1/2 E_x (D(x) - 1)² + 1/2 E_z D(G(z))²
    J(G) = 1/2 E_z (D(G(z)) - 1)²

D outputs raw scores (no sigmoid). Fakes that D scores correctly but that lie far from the decision boundary are
still penalised, so G keeps receiving gradients where the sigmoid cross-entropy would have saturated.
"""

from __future__ import annotations

import torch

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import register_section


@register_section(OBJECTIVES)
class LSGAN(Objective):
    name: str = "lsgan"
    real_target: float = 1.0
    """b: the score D should give real samples (and G wants for its fakes)."""
    fake_target: float = 0.0
    """a: the score D should give fakes."""
    scores = "critic"

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((real_out - self.real_target) ** 2).mean() + 0.5 * ((fake_out - self.fake_target) ** 2).mean()

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return 0.5 * ((fake_out - self.real_target) ** 2).mean()
