"""The GAN recipe: a generator, a discriminator, an objective, and k discriminator steps per generator step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch

from genlab.data import Batch
from genlab.models.base import RECIPES, ModelConfig, Recipe
from genlab.models.optim import OptimConfig
from genlab.nets import NETS, NetSpec
from genlab.nets.dcgan import DCGAN
from genlab.objectives import OBJECTIVES, Objective
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import Range, register_section, registered

Net = registered(NetSpec, NETS, key="arch")
ObjectiveField = registered(Objective, OBJECTIVES)
SAMPLE_CHUNK = 256


@register_section(RECIPES, key="recipe")
class GANConfig(ModelConfig):
    recipe: str = "gan"
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 100
    generator: Net = DCGAN()
    discriminator: Net = DCGAN()
    objective: ObjectiveField = NonSaturating()
    g_optim: OptimConfig = OptimConfig()
    d_optim: OptimConfig = OptimConfig()
    d_steps: Annotated[int, Range(ge=1, le=100)] = 1
    """Discriminator updates per generator update, each on a fresh real batch."""

    def build(self, image_shape: tuple[int, int, int], num_classes: int | None, device: torch.device) -> GAN:
        return GAN(self, image_shape, device)


class GAN(Recipe):
    def __init__(self, cfg: GANConfig, image_shape: tuple[int, int, int], device: torch.device):
        self.cfg = cfg
        self.device = device
        self.generator = cfg.generator.generator(cfg.z_dim, image_shape).to(device)
        self.discriminator = cfg.discriminator.discriminator(image_shape).to(device)
        self.objective = cfg.objective
        self.networks = {"generator": self.generator, "discriminator": self.discriminator}
        self.optimizers = {
            "generator": cfg.g_optim.build(self.generator.parameters()),
            "discriminator": cfg.d_optim.build(self.discriminator.parameters()),
        }

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        G, D, objective = self.generator, self.discriminator, self.objective
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        for i in range(self.cfg.d_steps):
            real = next_batch().images
            # Only the last fake batch is reused by G's step, so only it keeps G's graph.
            with torch.set_grad_enabled(i == self.cfg.d_steps - 1):
                fake = G(torch.randn(len(real), self.cfg.z_dim, device=self.device))
            real_out, fake_out = D(real), D(fake.detach())
            d_loss = objective.d_loss(real_out, fake_out)
            penalty = objective.penalty(D, real, fake.detach())
            if penalty is not None:
                d_loss = d_loss + penalty
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            objective.after_d_step(D)

        D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        g_loss = objective.g_loss(D(fake), D(real) if objective.uses_real_in_g_loss else None)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        return {
            "loss/d": d_loss.detach(),
            "loss/g": g_loss.detach(),
            "D(x)": objective.probability(real_out.detach()).mean(),
            "D(G(z))": objective.probability(fake_out.detach()).mean(),
        }

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        # Latents come from a CPU generator so a seed gives the same samples on any device; eval mode uses
        # BatchNorm's running statistics, so sampling neither depends on the batch nor changes training state.
        z = torch.randn(n, self.cfg.z_dim, generator=generator).to(self.device)
        self.generator.eval()
        try:
            return torch.cat([self.generator(chunk) for chunk in z.split(SAMPLE_CHUNK)])
        finally:
            self.generator.train()
