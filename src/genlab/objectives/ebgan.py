"""Energy-based GAN (Zhao et al. 2017): the discriminator is an autoencoder.

D(x) = ‖Dec(Enc(x)) - x‖ is a reconstruction energy, low on real data. With margin m and [u]⁺ = max(0, u):

    J(D) = D(x) + [m - D(G(z))]⁺        J(G) = D(G(z)) + λ_PT f_PT(S)

D is trained to reconstruct reals well and fakes badly, but only up to the margin: fakes whose energy exceeds m
no longer push D, which bounds its objective. Use it with ``discriminator: {arch: autoencoder, distance: mse}``.
The margin is in the units of the energy (mean squared error per coordinate), so it depends on the data's scale.

The pulling-away term (``pt_weight`` = λ_PT, 0.1 in the paper; off by default) acts on the encoder's codes S of the
fake batch, s_i = Enc(G(z_i)):

    f_PT(S) = 1 / (N(N - 1)) Σ_{i≠j} (s_iᵀ s_j / (‖s_i‖ ‖s_j‖))²

the mean squared cosine similarity between the codes of distinct fakes: 1 when they all point one way (a collapsed
batch), 0 when they are orthogonal, so G is pushed to spread its samples over the code space.
"""

from __future__ import annotations

from typing import Annotated

import torch
import torch.nn.functional as F

from genlab.errors import ConfigError
from genlab.objectives.base import OBJECTIVES, Objective
from genlab.objectives.penalties import Critic
from genlab.schema import Range, register_section


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """f_PT of a batch of codes (N, ...): the mean of the squared cosine similarities over the N(N - 1) ordered
    pairs of distinct samples (the diagonal, each code with itself, is left out)."""
    n, dim = codes.shape[0], codes[0].numel()
    if n < 2 or dim < 2:
        raise ConfigError(
            f"EBGAN's pulling-away term compares the directions of at least 2 codes of at least 2 units, but got "
            f"{n} code(s) of {dim} unit(s); raise model.discriminator.code_dim and train.batch_size to 2 or more, or "
            "set model.objective.pt_weight: 0"
        )
    unit = F.normalize(codes.flatten(1), dim=1)
    squared = (unit @ unit.T).square()
    return squared.masked_fill(torch.eye(n, dtype=torch.bool, device=codes.device), 0).sum() / (n * (n - 1))


@register_section(OBJECTIVES)
class EBGAN(Objective):
    name: str = "ebgan"
    margin: Annotated[float, Range(gt=0)] = 1.0
    pt_weight: Annotated[float, Range(ge=0)] = 0.0
    """Weight λ_PT of the pulling-away term on the codes of the fake batch in G's loss (0.1 in the paper); it
    needs a code of 2 units or more (discriminator code_dim); 0 turns it off and costs nothing."""
    scores = "energy"

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        return real_out.mean() + F.relu(self.margin - fake_out).mean()

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        return fake_out.mean()

    def g_penalty(self, discriminator: Critic, fake: torch.Tensor) -> torch.Tensor | None:
        if self.pt_weight == 0:
            return None
        encode = getattr(discriminator, "encode", None)
        if encode is None:
            raise ConfigError(
                "EBGAN's pulling-away term (model.objective.pt_weight) needs the codes of an autoencoder "
                "discriminator, one with an encode method (discriminator: {arch: autoencoder}); set pt_weight: 0"
            )
        return self.pt_weight * pulling_away(encode(fake))
