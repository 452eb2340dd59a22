"""Energy-based GAN (Zhao et al. 2017): the discriminator is an autoencoder.

D(x) = ‖Dec(Enc(x)) - x‖ is a reconstruction energy, low on real data. With margin m and [u]⁺ = max(0, u):

    J(D) = D(x) + [m - D(G(z))]⁺        J(G) = D(G(z))

D is trained to reconstruct reals well and fakes badly, but only up to the margin: fakes whose energy exceeds m
no longer push D, which bounds its objective. Use it with ``discriminator: {arch: autoencoder, distance: mse}``.
The margin is in the units of the energy (mean squared error per coordinate), so it depends on the data's scale.
"""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import Range, register_section


@register_section(OBJECTIVES)
class EBGAN(Objective):
    name: str = "ebgan"
    margin: Annotated[float, Range(gt=0)] = 1.0
    scores = "energy"

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return real_out.mean() + F.relu(self.margin - fake_out).mean()

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return fake_out.mean()
