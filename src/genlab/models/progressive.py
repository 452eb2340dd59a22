"""The progressive GAN recipe (Karras et al. 2018): the GAN recipe with networks that grow.

Training starts at ``growth.start_size`` (4x4) and doubles the resolution until the data's: each new resolution
first fades in over ``fade_images`` training images (its block's weight alpha rising linearly from 0 to 1), then
trains at full weight for ``stable_images``; the last resolution trains until ``train.steps``. Real images are
shown to D at the current resolution (average-pooled) and, during a fade, blended between the two resolutions the
same way G's output is. Each resolution may have its own batch size (``batch_sizes``): a phase gathers as many of
the trainer's batches (of train.batch_size images) as it needs and uses the first ones, so the logged images/s
counts drawn images, which exceed the used ones when a phase's batch is not a multiple of train.batch_size.

Where training is within the plan is a pure function of the step, so a resumed run (even in the middle of a fade)
continues exactly; the networks also store their phase with their weights, so any checkpoint samples at the
resolution it was trained to. Everything else (objective, schedule, EMA, instance noise, packing) is the GAN
recipe's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator, model_validator

from genlab.data import Batch
from genlab.errors import ConfigError
from genlab.models.base import RECIPES, RunDefaults
from genlab.models.gan import GAN, GANConfig, Net, ObjectiveField
from genlab.models.optim import OptimConfig
from genlab.nets.progressive import Progressive, ProgressiveNet
from genlab.objectives.wgan import WGANGP
from genlab.schema import Range, Section, register_section


def is_side(n: int) -> bool:
    return n >= 4 and n & (n - 1) == 0


class Growth(Section):
    start_size: Annotated[int, Range(ge=4, le=256)] = 4
    """Side at which training starts (a power of two); the data's side means no growth at all."""
    fade_images: Annotated[int, Range(ge=1)] = 60_000
    """Training images over which each new resolution fades in (alpha from 0 to 1)."""
    stable_images: Annotated[int, Range(ge=1)] = 60_000
    """Training images at each resolution after its fade (the last resolution trains until train.steps)."""
    batch_sizes: dict[int, Annotated[int, Range(ge=1, le=65536)]] = Field(default_factory=dict)
    """Batch size per side, e.g. {4: 128, 8: 128, 16: 64, 32: 32}; other sides use train.batch_size."""
    batch_size: Annotated[int, Range(ge=1, le=65536)] | None = None
    """train.batch_size, filled in on loading (the batch of the sides not in ``batch_sizes``)."""

    @field_validator("start_size")
    @classmethod
    def _power_of_two(cls, side: int) -> int:
        if not is_side(side):
            raise ValueError(f"must be a power of two from 4 up; got {side}")
        return side

    @field_validator("batch_sizes")
    @classmethod
    def _sides(cls, sizes: dict[int, int]) -> dict[int, int]:
        bad = [side for side in sizes if not is_side(side)]
        if bad:
            raise ValueError(f"keys must be image sides (powers of two from 4 up); got {bad}")
        return sizes


@dataclass(frozen=True)
class Phase:
    level: int
    """0 for 4x4, +1 per doubling."""
    alpha: float
    """Weight of the newest block (1 outside fades)."""
    batch_size: int

    @property
    def side(self) -> int:
        return 4 * 2**self.level


class GrowthPlan:
    """The sequence of fade and stable phases, in steps, from ``growth`` for images of side ``final_side``."""

    def __init__(self, growth: Growth, final_side: int):
        if growth.start_size > final_side:
            raise ConfigError(
                f"model.growth.start_size ({growth.start_size}) is larger than the images ({final_side}x{final_side})"
            )
        if growth.batch_size is None:
            raise ConfigError("model.growth.batch_size is unset; load the config with genlab.config.load_config")
        self.final_level = int(math.log2(final_side)) - 2
        start = int(math.log2(growth.start_size)) - 2
        levels = range(start, self.final_level + 1)
        self.batch = {level: growth.batch_sizes.get(4 * 2**level, growth.batch_size) for level in levels}
        self.phases: list[tuple[int, bool, int, int]] = []  # (level, fading, first step, steps)
        step = 0
        for level in levels:
            for fading, images in ((True, growth.fade_images), (False, growth.stable_images)):
                if not (fading and level == start):
                    steps = math.ceil(images / self.batch[level])
                    self.phases.append((level, fading, step, steps))
                    step += steps

    def at(self, step: int) -> Phase:
        for level, fading, first, steps in self.phases:
            if step < first + steps or (level == self.final_level and not fading):  # the last phase never ends
                alpha = min(1.0, (step - first) / steps) if fading else 1.0
                return Phase(level, alpha, self.batch[level])
        raise AssertionError("unreachable: the last phase is the final level's")

    def stage_end(self, steps_done: int) -> int | None:
        """The level whose training ends after ``steps_done`` steps (the end of its stable phase), if any."""
        for level, fading, first, steps in self.phases:
            if not fading and level < self.final_level and first + steps == steps_done:
                return level
        return None


def real_at(images: torch.Tensor, phase: Phase) -> torch.Tensor:
    """Real images as D sees them in ``phase``: average-pooled to its side and, during a fade, blended with the
    previous side's images enlarged back, exactly as G's output is blended."""
    current = F.adaptive_avg_pool2d(images, phase.side) if images.shape[-1] != phase.side else images
    if phase.alpha >= 1.0:
        return current
    coarse = F.interpolate(F.avg_pool2d(current, 2), scale_factor=2, mode="nearest")
    return torch.lerp(coarse, current, phase.alpha)


@register_section(RECIPES, key="recipe")
class ProgressiveConfig(GANConfig):
    recipe: str = "progressive"
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 128
    generator: Net = Progressive()
    discriminator: Net = Progressive()
    objective: ObjectiveField = WGANGP(drift=0.001)
    g_optim: OptimConfig = OptimConfig(lr=1e-3, betas=(0.0, 0.99))
    d_optim: OptimConfig = OptimConfig(lr=1e-3, betas=(0.0, 0.99))
    growth: Growth = Growth()

    @model_validator(mode="after")
    def _growable(self) -> ProgressiveConfig:
        clashes = {
            "model.generator.arch must be progressive": self.generator.arch != "progressive",
            "model.discriminator.arch must be progressive": self.discriminator.arch != "progressive",
            "model.condition must be none": self.condition != "none",
            "model.tricks.replay must be off (old fakes have an old resolution)": self.tricks.replay is not None,
        }
        problems = [text for text, present in clashes.items() if present]
        if problems:
            raise ValueError(f"the progressive recipe grows its own networks: {'; '.join(problems)}")
        return self

    def with_run_defaults(self, run: RunDefaults) -> ProgressiveConfig:
        if self.growth.batch_size == run.batch_size:
            return self
        growth = self.growth.model_copy(update={"batch_size": run.batch_size})
        return self.model_copy(update={"growth": growth})

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> ProgressiveGAN:
        return ProgressiveGAN(self, image_shape, device)


class ProgressiveGAN(GAN):
    def __init__(self, cfg: ProgressiveConfig, sample_shape: tuple[int, ...], device: torch.device):
        super().__init__(cfg, sample_shape, device)
        self.plan = GrowthPlan(cfg.growth, sample_shape[-1])
        self._enter(self.plan.at(0))

    def _nets(self) -> list[ProgressiveNet]:
        return [net for net in self.networks.values() if isinstance(net, ProgressiveNet)]

    def _enter(self, phase: Phase) -> None:
        for net in self._nets():
            net.set_phase(phase.level, phase.alpha)

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        phase = self.plan.at(step)
        self._enter(phase)

        draws = math.ceil(phase.batch_size / self.cfg.growth.batch_size)

        def batch_at_phase() -> Batch:
            images = torch.cat([next_batch().images for _ in range(draws)])[: phase.batch_size]
            return Batch(real_at(images, phase), None)

        logs = super().train_step(batch_at_phase, step)
        side = torch.tensor(float(phase.side), device=self.device)
        return logs | {"resolution": side, "alpha": torch.tensor(phase.alpha, device=self.device)}

    def distribute(self, wrap: Callable[[torch.nn.Module], torch.nn.Module], rank: int, world_size: int) -> None:
        raise ConfigError(
            "the progressive recipe does not support multi-process training yet (the unused blocks of lower "
            "resolutions would stall DistributedDataParallel); run it in one process"
        )

    def compile(self, compiled: Callable[[torch.nn.Module], torch.nn.Module]) -> list[str]:
        raise ConfigError(
            "the progressive recipe cannot be compiled: the networks' resolution and fade-in weight change as "
            "training grows them, so torch.compile would recompile at every step; set accel.compile: false"
        )

    def stage_end(self, steps_done: int) -> str | None:
        level = self.plan.stage_end(steps_done)
        return None if level is None else f"resolution-{4 * 2**level}x{4 * 2**level}"
