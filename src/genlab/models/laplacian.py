"""The Laplacian-pyramid GAN (LAPGAN, Denton et al. 2015): one small GAN per level of an image pyramid.

A real image I_0 of side S gives, with ``levels`` K, the Gaussian pyramid I_k = d(I_{k-1}) down to side S/2^(K-1)
(nets/pyramid.py; I_0 is the image itself). Levels are counted from the coarse one in configs, logs and file
names: level 0 is a plain GAN on the coarse images I_{K-1}, with any architecture for its generator (``coarse``)
and discriminator. Every finer level, at pyramid index k < K-1, is a conditional GAN on the band-pass image
h_k = I_k − u(I_{k+1}) given the enlarged coarser image l_k = u(I_{k+1}): G_k draws h̃_k = G_k(l_k, noise) and D_k
judges the pair (l_k, h) as one image of 2C channels, a real pair against a generated one, so it learns which
detail suits which coarse image:

    min_{G_k} max_{D_k}  E[log D_k(l_k, h_k)] + E[log(1 − D_k(l_k, G_k(l_k, noise)))]

with the log terms replaced by whatever ``objective`` is configured (every genlab objective and penalty composes;
each level keeps its own copy, so stateful ones such as BEGAN balance each game apart). In training every level is
conditioned on the real coarser image, so the levels are independent games: ``training: joint`` (the default)
takes one D and one G update of every level at every step; ``sequential`` trains them one by one, as the paper did,
level 0 for ``level_steps`` steps, then level 1, and the finest level until ``train.steps``. Sampling runs the
pyramid coarse to fine from generated images (nets/laplacian.py); :meth:`Laplacian.sample` returns the finest level
and a hook writes every level's samples to the run folder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import torch
from pydantic import model_validator

from genlab import keys
from genlab.data import Batch
from genlab.errors import ConfigError
from genlab.hooks import Hook, Moment
from genlab.images import enlarged_grid, save_png
from genlab.models.base import RECIPES, HookContext, ModelConfig, Recipe
from genlab.models.gan import Net, ObjectiveField, check_scores, generate
from genlab.models.hooks import PREVIEW_COLUMNS
from genlab.models.optim import OptimConfig, evaluating, frozen, minimise
from genlab.nets.dcgan import DCGAN
from genlab.nets.laplacian import LaplacianGenerator, ResidualSpec
from genlab.nets.pyramid import check_levels, gaussian_pyramid, up
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import Range, register_section


@register_section(RECIPES, key="recipe")
class LaplacianConfig(ModelConfig):
    recipe: str = "laplacian"
    levels: Annotated[int, Range(ge=2, le=6)] = 3
    """Pyramid levels K: the coarse GAN works at side S/2^(K-1) (e.g. 3 levels of 32x32 images: 8, 16, 32)."""
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 100
    """Latents of the coarse generator (the finer levels' noise planes come on top; see nets/laplacian.py)."""
    coarse: Net = DCGAN()
    """Architecture of the coarse generator G_0 (any registered one that builds a generator at the coarse side)."""
    residual: ResidualSpec = ResidualSpec()
    """The conditional generators of the finer levels."""
    discriminator: Net = DCGAN()
    """Architecture of every level's discriminator (on C channels at level 0, on 2C-channel pairs above it)."""
    objective: ObjectiveField = NonSaturating()
    g_optim: OptimConfig = OptimConfig()
    d_optim: OptimConfig = OptimConfig()
    training: Literal["joint", "sequential"] = "joint"
    """joint: every level updates at every step; sequential: one level after the other (the paper)."""
    level_steps: Annotated[int, Range(ge=1)] = 1000
    """sequential only: steps of each level but the finest, which trains for the rest of train.steps."""

    @model_validator(mode="after")
    def _consistent(self) -> LaplacianConfig:
        check_scores(self.objective, self.discriminator)
        return self

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> Laplacian:
        if len(image_shape) != 3:
            raise ConfigError(f"the laplacian recipe generates images; this data set holds vectors {image_shape}")
        check_levels(image_shape[-1], self.levels)
        return Laplacian(self, image_shape, device)


class Laplacian(Recipe):
    def __init__(self, cfg: LaplacianConfig, shape: tuple[int, ...], device: torch.device):
        self.cfg, self.device = cfg, device
        channels, side = shape[0], shape[-1]
        self.sides = [side // 2 ** (cfg.levels - 1 - k) for k in range(cfg.levels)]
        noise = [(cfg.residual.noise_channels, s, s) for s in self.sides[1:]]
        coarse = cfg.coarse.generator(cfg.z_dim, (channels, self.sides[0], self.sides[0]))
        residuals = [cfg.residual.build(channels) for _ in self.sides[1:]]
        self.generator = LaplacianGenerator(coarse, residuals, cfg.z_dim, noise).to(device)
        self.z_dim = self.generator.z_dim
        pair_channels = [channels] + [2 * channels] * (cfg.levels - 1)
        self.discriminators = [
            cfg.discriminator.discriminator((c, s, s)).to(device)
            for c, s in zip(pair_channels, self.sides, strict=True)
        ]
        self.objectives = [cfg.objective.model_copy(deep=True) for _ in self.sides]
        self.networks = {"generator": self.generator} | {
            f"discriminator_{k}": d for k, d in enumerate(self.discriminators)
        }
        self.optimizers = {}
        for k, (g, d) in enumerate(zip(self.generator.levels, self.discriminators, strict=True)):
            self.optimizers[f"generator_{k}"] = cfg.g_optim.build(g.parameters(), device)
            self.optimizers[f"discriminator_{k}"] = cfg.d_optim.build(d.parameters(), device)

    def trained_levels(self, step: int) -> list[int]:
        """The levels that update at ``step``."""
        if self.cfg.training == "joint":
            return list(range(self.cfg.levels))
        return [min(step // self.cfg.level_steps, self.cfg.levels - 1)]

    def real_and_fake(self, gaussian: list[torch.Tensor], k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """What D_k compares at level ``k`` for the real images' Gaussian pyramid ``gaussian`` (coarse first): the
        coarse images and G_0's samples, or real pairs (l_k, h_k) and generated pairs (l_k, G_k(l_k, noise))."""
        n = len(gaussian[0])
        if k == 0:
            return gaussian[0], self.generator.levels[0](torch.randn(n, self.cfg.z_dim, device=self.device))
        enlarged = up(gaussian[k - 1])
        noise = torch.randn(n, *self.generator.noise[k - 1], device=self.device)
        band = self.generator.levels[k](enlarged, noise)
        return torch.cat([enlarged, gaussian[k] - enlarged], dim=1), torch.cat([enlarged, band], dim=1)

    def _level_step(
        self, k: int, real: torch.Tensor, fake: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """One D update, then one G update through the frozen D, of level ``k``: its D and G losses and what its
        objective logs."""
        D, objective = self.discriminators[k], self.objectives[k]
        real_out, fake_out = D(real), D(fake.detach())
        d_loss = objective.d_loss(real_out, fake_out)
        penalty = objective.penalty(D, real, fake.detach(), step)  # one D step per level and step: step counts them
        if penalty is not None:
            d_loss = d_loss + penalty
        minimise(self.optimizers[f"discriminator_{k}"], d_loss)
        objective.after_d_step(D)
        observed = objective.observe(real_out.detach(), fake_out.detach())
        with frozen(D):
            g_loss = objective.generator_loss(D, fake, real)
            minimise(self.optimizers[f"generator_{k}"], g_loss)
        return d_loss.detach(), g_loss.detach(), observed

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        gaussian = gaussian_pyramid(next_batch().images, self.cfg.levels)
        levels = self.trained_levels(step)
        totals = {keys.D_LOSS: torch.zeros((), device=self.device), keys.G_LOSS: torch.zeros((), device=self.device)}
        per_level: dict[str, torch.Tensor] = {}
        for k in levels:
            d_loss, g_loss, observed = self._level_step(k, *self.real_and_fake(gaussian, k), step)
            totals[keys.D_LOSS] += d_loss
            totals[keys.G_LOSS] += g_loss
            per_level |= {f"{keys.LOSS_PREFIX}d_level{k}": d_loss, f"{keys.LOSS_PREFIX}g_level{k}": g_loss}
            per_level |= {f"level{k}/{name}": value for name, value in observed.items()}
        if self.cfg.training == "sequential":  # the same keys every step: the level, not its own losses
            return totals | {"level": torch.tensor(float(levels[0]), device=self.device)}
        return totals | per_level

    def stage_end(self, steps_done: int) -> str | None:
        if self.cfg.training == "joint" or steps_done % self.cfg.level_steps:
            return None
        k = steps_done // self.cfg.level_steps - 1
        return f"end-of-level-{k}-{self.sides[k]}x{self.sides[k]}" if k < self.cfg.levels - 1 else None

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None:
            raise ValueError("the laplacian recipe is unconditional: it takes no labels")
        return generate(self.generator, z.to(self.device))

    @torch.no_grad()
    def level_samples(self, z: torch.Tensor) -> list[torch.Tensor]:
        """Every level's samples for latents ``z``, coarse to fine, in eval mode (train flag restored)."""
        with evaluating(self.generator):
            return self.generator.pyramid(z.to(self.device))

    def hooks(self, context: HookContext) -> list[Hook]:
        return [LevelSamples(self, context.every, context.seed)]

    def extra_state(self) -> dict:
        return {"objectives": [objective.state_dict() for objective in self.objectives]}

    def load_extra_state(self, state: dict) -> None:
        for objective, saved in zip(self.objectives, state["objectives"], strict=True):
            objective.load_state_dict(saved)


class LevelSamples(Hook):
    """Every ``every`` steps (and when a sequential level finishes), a grid of 16 samples of every level from the
    same fixed latents, as samples/level-K-SxS-STEP.png (and to the train.loggers backends under level-K-SxS)."""

    at_stages = True

    def __init__(self, recipe: Laplacian, every: int, seed: int):
        self.recipe, self.every = recipe, every
        self.z = recipe.latents(PREVIEW_COLUMNS**2, generator=torch.Generator().manual_seed(seed))

    def __call__(self, moment: Moment) -> None:
        for k, images in enumerate(self.recipe.level_samples(self.z)):
            name = f"level-{k}-{images.shape[-2]}x{images.shape[-1]}"
            picture = enlarged_grid(images)
            save_png(picture, moment.samples_dir / f"{name}-{moment.step:08d}.png")
            moment.log.image(name, picture, moment.step)
