"""Wasserstein GAN (Arjovsky et al. 2017) and its gradient-penalty variant (Gulrajani et al. 2017).

The critic f estimates W(P_r, P_g) = sup over 1-Lipschitz f of E_x f(x) - E_z f(G(z)); it maximises that gap and G
minimises -E_z f(G(z)). The two variants differ only in how they keep f Lipschitz:

* ``wgan``: clip every critic weight to [-0.01, 0.01] after each critic step; train with RMSProp, lr 5e-5, and
  5 critic steps per generator step (the paper's defaults; see configs/wgan-*.yaml);
* ``wgan-gp``: no clipping, a penalty 10 (‖∇f(x̂)‖₂ - 1)² on random interpolates; Adam lr 1e-4, betas (0, 0.9),
  5 critic steps (configs/wgan-gp-*.yaml). BatchNorm in the critic breaks the per-sample penalty, so
  wgan-gp-mnist uses the DCGAN critic with ``d_norm: layer``.

Both take ``drift``, the progressive GAN's ε_drift: the critic's loss gains ε E_x[f(x)²], which keeps its values
near zero (the Wasserstein loss is blind to a constant shift, so they could wander off); the paper uses 0.001.
"""

from __future__ import annotations

from typing import Annotated

import torch

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.schema import Range, register_section


@register_section(OBJECTIVES)
class WGAN(Objective):
    name: str = "wgan"
    clip: Annotated[float, Range(gt=0)] | None = 0.01
    drift: Annotated[float, Range(ge=0)] = 0.0
    """Weight ε of the drift term ε E_x[f(x)²] in the critic's loss (progressive GAN: 0.001)."""
    scores = "critic"

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        loss = fake_out.mean() - real_out.mean()
        return loss + self.drift * real_out.square().mean() if self.drift else loss

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return -fake_out.mean()


@register_section(OBJECTIVES)
class WGANGP(WGAN):
    name: str = "wgan-gp"
    clip: Annotated[float, Range(gt=0)] | None = None
    gp_weight: Annotated[float, Range(ge=0)] = 10.0
