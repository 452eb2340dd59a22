"""The non-saturating GAN (Goodfellow et al. 2014): G maximises log D(G(z)).

With D(x) = sigmoid(logit), the two losses are
    J(D) = -1/2 E_x log D(x) - 1/2 E_z log(1 - D(G(z)))
    J(G) = -E_z log D(G(z))
which on logits are softplus(-l) for "should be real" and softplus(l) for "should be fake": numerically stable
forms of binary cross-entropy. G's loss keeps a strong gradient when D confidently rejects fakes, which the
minimax form log(1 - D(G(z))) does not.

``real_target`` below 1 is one-sided label smoothing (Salimans et al. 2016): real images are labelled
0.9 instead of 1, so D's optimum logit on them stays finite and it stops handing G oversized gradients. Fakes keep
the label 0: smoothing them too would reward D for leaving fakes in regions without data.
"""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import Range, register_section


def cross_entropy_with_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean binary cross-entropy -[t log σ(l) + (1 - t) log(1 - σ(l))] with a constant target t."""
    loss = F.softplus(-logits) if target == 1 else target * F.softplus(-logits) + (1 - target) * F.softplus(logits)
    return loss.mean()


@register_section(OBJECTIVES)
class NonSaturating(Objective):
    name: str = "nonsaturating"
    real_target: Annotated[float, Range(gt=0.5, le=1)] = 1.0
    """Label of real images in D's loss; 0.9 is one-sided label smoothing."""

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return 0.5 * (cross_entropy_with_logits(real_out, self.real_target) + F.softplus(fake_out).mean())

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return F.softplus(-fake_out).mean()
