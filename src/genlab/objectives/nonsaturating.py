"""The non-saturating GAN (Goodfellow et al. 2014, seed 000/002): G maximises log D(G(z)).

With D(x) = sigmoid(logit), the seeds' losses are
    J(D) = -1/2 E_x log D(x) - 1/2 E_z log(1 - D(G(z)))
    J(G) = -E_z log D(G(z))
which on logits are softplus(-l) for "should be real" and softplus(l) for "should be fake": numerically stable
forms of binary cross-entropy. G's loss keeps a strong gradient when D confidently rejects fakes, which the
minimax form log(1 - D(G(z))) does not.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import register_section


@register_section(OBJECTIVES)
class NonSaturating(Objective):
    name: str = "nonsaturating"

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return 0.5 * (F.softplus(-real_out).mean() + F.softplus(fake_out).mean())

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return F.softplus(-fake_out).mean()
