"""The original minimax GAN (Goodfellow et al. 2014): G minimises E log(1 - D(G(z))).

D's loss is the non-saturating GAN's (the same binary classifier); only G's differs. On logits
log(1 - σ(l)) = -softplus(l), so G minimises -softplus(l). Its gradient σ(l) vanishes exactly when D confidently
rejects the fakes (l → -∞), the saturation that the toy lab's critic-field experiment shows and the non-saturating
heuristic avoids. genlab keeps it for that comparison.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.objectives.base import OBJECTIVES
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import register_section


@register_section(OBJECTIVES)
class Minimax(NonSaturating):
    name: str = "minimax"

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return -F.softplus(fake_out).mean()
