"""Hinge loss (Lim & Ye 2017; the SNGAN/BigGAN default).

    J(D) = E_x max(0, 1 - D(x)) + E_z max(0, 1 + D(G(z)))
    J(G) = -E_z D(G(z))

D stops pushing on samples it already scores beyond the margin, which keeps its outputs bounded without a sigmoid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import register_section


@register_section(OBJECTIVES)
class Hinge(Objective):
    name: str = "hinge"
    scores = "critic"

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return -fake_out.mean()
