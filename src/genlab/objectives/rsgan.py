"""Relativistic standard GAN (Jolicoeur-Martineau 2018, RSGAN): the pairwise form of the relativistic loss.

D estimates how much more realistic a real sample is than one fake, σ(C(x_r) - C(x_f)); the losses are the
paper's (and the lecture notes'):

    J(D) = -E log σ(C(x_r) - C(x_f))        J(G) = -E log σ(C(x_f) - C(x_r))

The pairs are element i of the real batch with element i of the fake batch, so both batches must have the same
size (they do in every genlab recipe). Unlike ``ragan``, which compares each sample with the other batch's mean,
every pair is its own comparison. -log σ(u) is computed as softplus(-u), which stays finite for any logit gap.
It is ``ragan`` with the pairwise comparison in place of the averaged one (everything else is inherited): G's
loss also depends on C(x_r), so real data contributes gradients to G (the recipe passes D(real) to g_loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES
from genlab.objectives.ragan import RaGAN
from genlab.schema import register_section


def _pairwise(winner: torch.Tensor, loser: torch.Tensor) -> torch.Tensor:
    """-E log σ(w_i - l_i): "each sample of ``winner`` looks more real than its partner in ``loser``"."""
    if winner.shape != loser.shape:
        raise ValueError(
            f"the pairwise relativistic objective pairs real and fake samples one to one, but got scores of shapes "
            f"{tuple(winner.shape)} and {tuple(loser.shape)}; give D real and fake batches of the same size"
        )
    return F.softplus(loser - winner).mean()


@register_section(OBJECTIVES)
class RSGAN(RaGAN):
    name: str = "rsgan"

    def compare(self, winner: torch.Tensor, loser: torch.Tensor) -> torch.Tensor:
        return _pairwise(winner, loser)
