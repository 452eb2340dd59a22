"""DRAGAN (Kodali et al. 2017, "On Convergence and Stability of GANs"): the standard GAN with a gradient penalty
around the real data.

Mode collapse, the paper argues, comes with sharp gradients of D near the real points, so D's loss gains

    λ E_x,δ (‖∇D(x̂)‖₂ − k)²,   x̂ = x + α·c·std(x)·u,   u, α ~ U[0, 1]

with λ = 10, k = 1 and c = 0.5 (``gp_weight``, ``gp_target``, ``gp_noise``): the authors' code's noise (see
:func:`~genlab.objectives.penalties.perturb`; the paper writes δ ~ N(0, cI)). Unlike WGAN-GP's interpolates the
points do not depend on G, and the loss stays the non-saturating one, so DRAGAN is ``nonsaturating`` with
``gp_points: perturbed`` and can be written either way. One scale to know: genlab's D loss is half the sum of the
real and fake cross-entropies, the paper's (and Lucic et al.'s compare_gan) the whole sum, so λ = 10 here weighs
the penalty twice as much against the loss as their λ = 10 does (``gp_weight: 5`` matches them; Adam does not see
the overall scale).
"""

from __future__ import annotations

from typing import Annotated

from genlab.objectives.base import OBJECTIVES, PenaltyPoints
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import Range, register_section


@register_section(OBJECTIVES)
class DRAGAN(NonSaturating):
    name: str = "dragan"
    gp_weight: Annotated[float, Range(ge=0)] = 10.0
    gp_points: PenaltyPoints = "perturbed"
