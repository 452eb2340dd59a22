"""Relativistic average GAN (Jolicoeur-Martineau 2018).

D estimates how much more realistic a real sample is than the average fake, D̃(x_r) = σ(C(x_r) - E C(x_f)), and
the reverse for fakes. The losses are those of the paper:

    J(D) = -E log σ(C(x_r) - E C(x_f)) - E log(1 - σ(C(x_f) - E C(x_r)))
    J(G) = -E log σ(C(x_f) - E C(x_r)) - E log(1 - σ(C(x_r) - E C(x_f)))

G's loss is symmetric: it also lowers how real the real samples look relative to fakes, so real data contributes
gradients to G (which is why the recipe passes D(real) to g_loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import register_section


def _relativistic(winner: torch.Tensor, loser: torch.Tensor) -> torch.Tensor:
    """-E log σ(w - E l) - E log(1 - σ(l - E w)): "samples ``winner`` look more real than samples ``loser``"."""
    return F.softplus(-(winner - loser.mean())).mean() + F.softplus(loser - winner.mean()).mean()


@register_section(OBJECTIVES)
class RaGAN(Objective):
    name: str = "ragan"
    uses_real_in_g_loss = True
    scores = "critic"

    def compare(self, winner: torch.Tensor, loser: torch.Tensor) -> torch.Tensor:
        """Loss for "``winner`` looks more real than ``loser``": D's with (real, fake), G's with (fake, real); the
        pairwise variant (rsgan) overrides only this."""
        return _relativistic(winner, loser)

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return self.compare(real_out, fake_out)

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        if real_out is None:
            raise ValueError("the relativistic objective needs D's outputs on real samples for G's loss")
        return self.compare(fake_out, real_out)
