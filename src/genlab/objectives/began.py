"""Boundary Equilibrium GAN (Berthelot et al. 2017).

Like EBGAN, D is an autoencoder and L(v) = |v - D(v)| its per-sample L1 reconstruction loss (use
``discriminator: {arch: autoencoder, distance: l1}``). Instead of a margin, BEGAN keeps the two losses in a fixed
ratio γ = E L(G(z)) / E L(x) with a proportional controller k_t ∈ [0, 1]:

    J(D) = L(x) - k_t L(G(z))        J(G) = L(G(z))
    k_{t+1} = clip(k_t + λ_k (γ L(x) - L(G(z))), 0, 1)

Lower γ asks for sharper, less diverse samples. The convergence measure M_global = L(x) + |γ L(x) - L(G(z))|
falls as training converges; it is logged as ``began/M_global`` beside ``began/k``.
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import PrivateAttr

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import Range, register_section


@register_section(OBJECTIVES)
class BEGAN(Objective):
    name: str = "began"
    gamma: Annotated[float, Range(gt=0, le=1)] = 0.5
    """Diversity ratio γ = E L(G(z)) / E L(x) the controller holds."""
    lambda_k: Annotated[float, Range(gt=0)] = 1e-3
    """Learning rate of the equilibrium variable k."""
    k_init: Annotated[float, Range(ge=0, le=1)] = 0.0
    scores = "energy"

    _k: torch.Tensor | None = PrivateAttr(None)

    @property
    def k(self) -> torch.Tensor:
        if self._k is None:
            self._k = torch.tensor(self.k_init)
        return self._k

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return real_out.mean() - self.k.to(fake_out.device) * fake_out.mean()

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return fake_out.mean()

    def observe(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, torch.Tensor]:
        real, fake = real_out.mean(), fake_out.mean()
        balance = self.gamma * real - fake
        self._k = (self.k.to(real.device) + self.lambda_k * balance).clamp(0, 1)
        return {"began/k": self._k, "began/M_global": real + balance.abs()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"k": self.k.clone()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self._k = state["k"].clone()
