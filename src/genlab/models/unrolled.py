"""Unrolled GAN (Metz et al. 2017): the generator's loss is taken against a discriminator looked k steps ahead.

With D's parameters θ_D and its loss L_D, the paper unrolls k updates of D as a differentiable function of G's
parameters θ_G,

    θ_D⁰ = θ_D,    θ_Dⁱ⁺¹ = θ_Dⁱ − η ∇_θ_Dⁱ L_D(θ_G, θ_Dⁱ),

and trains G on f_K(θ_G, θ_D) = L_G(θ_G, θ_Dᵏ), differentiated through the k updates (create_graph), so G feels how
D would answer its move and spreading over modes pays off where collapsing onto one does not. The surrogate here is
plain gradient descent with step size η (the paper differentiates through D's own Adam update; plain steps keep the
graph small and have no optimiser state to copy). Only G's update sees the unrolled copy: D's real parameters take
their usual optimiser step, which is the paper's "keep only the first unrolled step".

The copy runs through :func:`torch.func.functional_call`, so any discriminator whose parameters are plain tensors
works, conditional ones included (the labels are passed through). BatchNorm's running statistics are updated on a
copy of the buffers during the unrolled steps and G's scoring through the moved weights, so with k ≥ 1 they change
only in D's own steps; with k = 0 G's scoring updates them as the plain G step does. Parametrised layers (spectral
norm, which recomputes the weight with a power iteration in its own buffers) are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parametrize

from genlab.errors import ConfigError
from genlab.objectives.penalties import Critic
from genlab.schema import Range, Section


class UnrollConfig(Section):
    steps: Annotated[int, Range(ge=0, le=100)] = 5
    """k: discriminator updates G's loss looks ahead through (the paper uses 5 to 10); 0 is the plain objective."""
    lr: Annotated[float, Range(gt=0, le=10)] | None = None
    """Step size η of the unrolled plain-gradient updates; null: model.d_optim.lr. Too large a look-ahead lets D
    outrun G: on the ring presets 0.001 trains, 0.01 and 0.1 lose every mode (benchmarks/RESULTS.md)."""


def check_unrollable(discriminator: nn.Module, scores: str) -> None:
    """Refuse what the unrolled copy cannot follow: parametrised layers and autoencoder (energy) discriminators."""
    if any(parametrize.is_parametrized(module) for module in discriminator.modules()):
        raise ConfigError(
            "model.tricks.unroll cannot follow a discriminator with parametrised layers (spectral norm recomputes "
            "its weights with power iterations outside the unrolled copy); set model.discriminator.spectral_norm: "
            "false or model.tricks.unroll: null"
        )
    if scores == "energy":
        raise ConfigError(
            "model.tricks.unroll supports classifier discriminators only: an energy objective's G loss also reads "
            "the autoencoder's codes, which the unrolled copy does not provide; pick a classifier objective or set "
            "model.tricks.unroll: null"
        )


def unrolled_critic(
    net: nn.Module,
    d_loss: Callable[[Critic], torch.Tensor],
    steps: int,
    lr: float,
    labels: torch.Tensor | None = None,
) -> Critic:
    """``net`` as a function of its inputs with its parameters moved ``steps`` plain-gradient steps of size ``lr``
    down ``d_loss`` (which scores batches with the critic it is given); the steps stay in the autograd graph, so
    a loss on the returned critic's outputs differentiates through them to whatever ``d_loss``'s batches depend on.
    """
    kwargs = {} if labels is None else {"labels": labels}

    def critic(state: dict[str, torch.Tensor]) -> Critic:
        return lambda x: functional_call(net, state, (x,), kwargs)

    params = {name: p.detach().requires_grad_() for name, p in net.named_parameters()}
    buffers = {name: b.clone() for name, b in net.named_buffers()}
    for _ in range(steps):
        loss = d_loss(critic({**params, **buffers}))
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {name: p - lr * g for (name, p), g in zip(params.items(), grads, strict=True)}
    # The final scoring through moved weights would feed BatchNorm statistics D never produced: it keeps to the
    # copy too. With k = 0 it is D itself, whose statistics the plain G step updates as well.
    return critic({**params, **buffers} if steps else params)
