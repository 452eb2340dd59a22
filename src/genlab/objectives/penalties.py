"""Discriminator regularisers that work with any objective: the gradient penalty and weight clipping."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Critic = Callable[[torch.Tensor], torch.Tensor]
"""The discriminator as a function of its inputs: a module, or a conditional one with its labels bound."""


def interpolate(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Random points x̂ = εx + (1 − ε)G(z) on the segments between paired real and fake samples.

    One ε ~ U[0, 1] per sample, broadcast over all of its coordinates: the penalty is meant to hold along straight
    lines between the two distributions (Gulrajani et al. 2017), which a per-pixel ε would not sample.
    """
    eps = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), device=real.device, dtype=real.dtype)
    return torch.lerp(fake, real, eps)


def perturb(real: torch.Tensor, scale: float) -> torch.Tensor:
    """DRAGAN's points (Kodali et al. 2017, as in the authors' code): x̂ = x + α·δ, δ = c·std(x)·u.

    u ~ U[0, 1] per coordinate, std(x) the standard deviation of the whole real batch (one number), c = ``scale``
    and α ~ U[0, 1] one per sample (:func:`interpolate` between x and x + δ). The paper writes the penalty at
    x + δ with δ ~ N(0, cI); its code, which Lucic et al.'s study also uses, draws this one-sided uniform noise
    scaled to the data instead, so c means the same on images in [-1, 1] and on 2-D mixtures. The offset is not
    centred: on average x̂ − x = c·std(x)/4 per coordinate (E[α] E[u] = 1/4).
    """
    noise = scale * real.std() * torch.rand_like(real)
    return interpolate(real + noise, real)


def gradient_penalty(discriminator: Critic, points: torch.Tensor, target: float) -> torch.Tensor:
    """Mean over the batch of (‖∇ₓD(x)‖₂ − target)² at ``points`` (unweighted).

    ``create_graph`` keeps the penalty differentiable with respect to D's weights, which is what trains them.
    """
    points = points.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(points).sum(), points, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)
    return ((norms - target) ** 2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, bound: float) -> None:
    """Clamp every parameter of ``module`` to [-bound, bound] in place (the original WGAN's Lipschitz constraint)."""
    params = list(module.parameters())
    if params:
        torch._foreach_clamp_min_(params, -bound)
        torch._foreach_clamp_max_(params, bound)
