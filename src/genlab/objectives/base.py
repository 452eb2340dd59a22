"""The interface every GAN objective implements.

An objective turns the discriminator's raw outputs (logits, critic values or reconstruction energies) into the two
players' losses. It knows nothing about optimisers, data or logging; recipes call it. Every objective also carries
the two discriminator regularisers that work with any loss, as plain fields:

* ``gp_weight``: a gradient penalty on random interpolates between real and fake samples, on the real samples
  (``gp_points: real``, R1) or on real samples perturbed by noise (``gp_points: perturbed``, DRAGAN, scale
  ``gp_noise``); WGAN-GP and DRAGAN set it to 10, and it can be added to any objective, e.g.
  ``objective: {name: nonsaturating, gp_weight: 10}``; ``penalty_every: k`` makes it lazy (StyleGAN2: computed on
  every k-th D step only, with weight λ·k);
* ``clip``: weight clipping to [-clip, clip] after every discriminator step (WGAN sets it to 0.01).

Objectives that keep state across steps (BEGAN's equilibrium variable) hold it as tensors, update it in
:meth:`Objective.observe` and round-trip it through :meth:`state_dict`, so it lands in checkpoints. Parameters are
validated fields, so an objective is also its own config section: ``objective: {name: hinge}``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import torch
from torch import nn

from genlab.objectives.penalties import Critic, clip_weights, gradient_penalty, interpolate, perturb
from genlab.registry import Registry
from genlab.schema import Range, Section

Scores = Literal["logits", "critic", "energy"]
"""What a discriminator outputs: "logits" (a probability through a sigmoid), "critic" (unbounded scores) or
"energy" (non-negative reconstruction errors, which needs the autoencoder discriminator)."""

PenaltyPoints = Literal["interpolates", "real", "perturbed"]
"""Where the gradient penalty is taken (:meth:`Objective.penalty_points`)."""


class Objective(Section):
    name: str = "nonsaturating"
    gp_weight: Annotated[float, Range(ge=0)] = 0.0
    """Weight λ of the gradient penalty λ(‖∇D(x̂)‖₂ − gp_target)² at the ``gp_points``; 0 turns it off."""
    gp_target: Annotated[float, Range(ge=0)] = 1.0
    """Gradient norm the penalty pulls towards: 1 as in WGAN-GP; 0 for a zero-centred penalty."""
    gp_points: PenaltyPoints = "interpolates"
    """Where the penalty is taken: random interpolates (WGAN-GP), the real samples (R1, Mescheder et al. 2018) or
    the real samples perturbed by noise (DRAGAN, Kodali et al. 2017; :func:`~genlab.objectives.penalties.perturb`)."""
    gp_noise: Annotated[float, Range(gt=0, le=10)] = 0.5
    """DRAGAN's noise scale c (``gp_points: perturbed`` only): x̂ = x + α·c·std(x)·u, u, α ~ U[0, 1]; 0.5 as in
    the authors' code."""
    penalty_every: Annotated[int, Range(ge=1, le=1000)] = 1
    """Lazy regularisation (Karras et al. 2020): take the penalty only on D steps 0, k, 2k, ... with weight
    gp_weight·k, so its average pull is unchanged at 1/k of its cost; 1 takes it on every D step."""
    clip: Annotated[float, Range(gt=0)] | None = None
    """Clip every discriminator parameter to [-clip, clip] after each D step (WGAN's Lipschitz constraint)."""

    uses_real_in_g_loss: ClassVar[bool] = False
    """Relativistic objectives compare fakes with reals in G's loss; the recipe then passes D(real) to g_loss."""
    scores: ClassVar[Scores] = "logits"
    """What D outputs (:data:`Scores`)."""

    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        """Discriminator loss to minimise, from D's outputs on a real and a generated batch."""
        raise NotImplementedError

    def g_loss(self, fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
        """Generator loss to minimise, from D's outputs on a generated batch (and on a real one if it needs it)."""
        raise NotImplementedError

    def penalty(
        self, discriminator: Critic, real: torch.Tensor, fake: torch.Tensor, d_step: int
    ) -> torch.Tensor | None:
        """Extra term added to the discriminator loss on D step ``d_step`` (counted from 0 by the recipe, on the
        host), None when there is none on this step; ``discriminator`` maps inputs to scores (a conditional D with
        its labels bound)."""
        if self.gp_weight == 0 or d_step % self.penalty_every:
            return None
        points = self.penalty_points(real, fake)
        return (self.gp_weight * self.penalty_every) * gradient_penalty(discriminator, points, self.gp_target)

    def penalty_points(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The points x̂ at which the gradient penalty is taken (``gp_points``)."""
        if self.gp_points == "interpolates":
            return interpolate(real, fake)
        return perturb(real, self.gp_noise) if self.gp_points == "perturbed" else real

    def g_penalty(self, discriminator: Critic, fake: torch.Tensor) -> torch.Tensor | None:
        """Extra term added to G's loss from ``discriminator``'s view of the generated batch ``fake`` (as D sees
        it), None when there is none: EBGAN's pulling-away term on its encoder's codes."""
        return None

    def critic_loss(self, discriminator: Critic, real: torch.Tensor, fake: torch.Tensor, d_step: int) -> torch.Tensor:
        """D's loss plus its penalty on D step ``d_step``, scoring the real and the (detached) fake batch with
        ``discriminator``: for recipes that show D whole batches (the GAN recipe's tricks change what D sees, so it
        composes these itself)."""
        loss = self.d_loss(discriminator(real), discriminator(fake))
        penalty = self.penalty(discriminator, real, fake, d_step)
        return loss if penalty is None else loss + penalty

    def generator_loss(self, discriminator: Critic, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """G's loss of ``fake`` through ``discriminator`` (which also scores ``real`` for relativistic objectives)."""
        real_out = discriminator(real) if self.uses_real_in_g_loss else None
        loss = self.g_loss(discriminator(fake), real_out)
        penalty = self.g_penalty(discriminator, fake)
        return loss if penalty is None else loss + penalty

    def after_d_step(self, discriminator: nn.Module) -> None:
        """Called after every discriminator update."""
        if self.clip is not None:
            clip_weights(discriminator, self.clip)

    def readout(self, out: torch.Tensor) -> torch.Tensor:
        """D's output as logged for D(x) and D(G(z)): a probability for logit objectives, else the raw score."""
        return torch.sigmoid(out) if self.scores == "logits" else out

    def observe(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, torch.Tensor]:
        """See D's (detached) outputs of each iteration's last D step; stateful objectives update themselves here.

        Returns extra scalars to log (the same keys every step), left on the device.
        """
        return {}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors that change during training (none for most objectives)."""
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned."""


OBJECTIVES: Registry[type[Objective]] = Registry("objective")
