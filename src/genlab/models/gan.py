"""The GAN recipe: a generator, a discriminator, an objective, a schedule and optional tricks.

One training iteration is whatever the schedule makes of two moves: a discriminator step (draw a real batch and a
fake batch, score both, minimise the objective's D loss plus its penalty) and a generator step (minimise the
objective's G loss through the frozen discriminator). The tricks change what D sees (packing, instance noise,
replayed fakes, real and fake in one batch) or what sampling uses (an EMA of G); each is off by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import torch
from pydantic import model_validator

from genlab.data import Batch
from genlab.models.base import RECIPES, ModelConfig, Recipe
from genlab.models.optim import OptimConfig
from genlab.nets import NETS, NetSpec
from genlab.nets.dcgan import DCGAN
from genlab.objectives import OBJECTIVES, Objective
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import Range, Section, register_section, registered
from genlab.train.schedules import SCHEDULES, DStepResult, Fixed, Schedule, UpdateRule
from genlab.train.tricks import EMA, EMAConfig, InstanceNoiseConfig, ReplayBuffer, ReplayConfig

Net = registered(NetSpec, NETS, key="arch")
ObjectiveField = registered(Objective, OBJECTIVES)
ScheduleField = registered(Schedule, SCHEDULES)
SAMPLE_CHUNK = 256


class GANTricks(Section):
    """Stabilisation tricks from the lecture notes; ``null`` (the default) switches a trick off."""

    ema: EMAConfig | None = None
    """Keep an exponential moving average of G's weights and sample from it."""
    instance_noise: InstanceNoiseConfig | None = None
    """Add Gaussian noise to every input of D (real and fake), annealed to zero."""
    replay: ReplayConfig | None = None
    """Historical generator batches: mix old fakes from a pool into D's fake batches."""
    pack: Annotated[int, Range(ge=1, le=16)] = 1
    """PacGAN: D judges groups of `pack` samples joined along channels (or features); 1 is off."""
    d_batches: Literal["separate", "joint"] = "separate"
    """separate: real and fake batches pass D apart, so BatchNorm normalises all-real and all-fake batches (the
    seeds' advice); joint: one concatenated batch, so BatchNorm statistics mix both."""


@register_section(RECIPES, key="recipe")
class GANConfig(ModelConfig):
    recipe: str = "gan"
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 100
    latent: Literal["normal", "uniform"] = "normal"
    """Prior of z: standard normal, or uniform on [-1, 1]^z_dim (bounded: no tail for G to map off the data)."""
    generator: Net = DCGAN()
    discriminator: Net = DCGAN()
    objective: ObjectiveField = NonSaturating()
    g_optim: OptimConfig = OptimConfig()
    d_optim: OptimConfig = OptimConfig()
    d_steps: Annotated[int, Range(ge=1, le=100)] = 1
    """Discriminator updates per generator update, each on a fresh real batch (fixed and skip-strong-d)."""
    schedule: ScheduleField = Fixed()
    tricks: GANTricks = GANTricks()

    @model_validator(mode="after")
    def _consistent(self) -> GANConfig:
        if (self.objective.scores == "energy") != (self.discriminator.outputs == "energy"):
            need = "needs" if self.objective.scores == "energy" else "cannot use"
            raise ValueError(
                f"objective '{self.objective.name}' {need} an autoencoder discriminator (one that outputs "
                "reconstruction energies); set discriminator: {arch: autoencoder}"
                + (" or pick a classifier objective" if need == "cannot use" else "")
            )
        if self.schedule.name == "adaptive" and self.d_steps != 1:
            raise ValueError("the adaptive schedule sets the number of D steps itself; leave d_steps at 1")
        return self

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.tricks.pack:
            raise ValueError(
                f"train.batch_size ({batch_size}) must be a multiple of model.tricks.pack ({self.tricks.pack})"
            )

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> GAN:
        return GAN(self, image_shape, device)


def pack_samples(samples: torch.Tensor, pack: int) -> torch.Tensor:
    """Join each run of ``pack`` consecutive samples along the channel (or feature) axis: (B, C, ...) ->
    (B / pack, pack * C, ...). D then judges groups, and a collapsed G shows as groups of near-copies."""
    if pack == 1:
        return samples
    b, c, *rest = samples.shape
    return samples.reshape(b // pack, pack * c, *rest)


class GAN(Recipe):
    def __init__(self, cfg: GANConfig, sample_shape: tuple[int, ...], device: torch.device):
        self.cfg = cfg
        self.device = device
        self.tricks = cfg.tricks
        packed_shape = (sample_shape[0] * cfg.tricks.pack, *sample_shape[1:])
        self.generator = cfg.generator.generator(cfg.z_dim, sample_shape).to(device)
        self.discriminator = cfg.discriminator.discriminator(packed_shape).to(device)
        self.objective = cfg.objective.model_copy(deep=True)  # it may hold training state (BEGAN's k)
        self.schedule = cfg.schedule
        self.networks = {"generator": self.generator, "discriminator": self.discriminator}
        self.ema = EMA(self.generator, cfg.tricks.ema) if cfg.tricks.ema else None
        if self.ema is not None:
            self.networks["generator_ema"] = self.ema.net
        self.replay = ReplayBuffer(cfg.tricks.replay, sample_shape, device) if cfg.tricks.replay else None
        self.optimizers = {
            "generator": cfg.g_optim.build(self.generator.parameters()),
            "discriminator": cfg.d_optim.build(self.discriminator.parameters()),
        }
        self._next_batch: Callable[[], Batch] | None = None
        self._step = 0

    # -- the two moves the schedule combines -------------------------------------------------------------------

    def _latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` prior draws, from ``generator`` when given (on its device) else from the global RNG here."""
        device = self.device if generator is None else generator.device
        uniform = self.cfg.latent == "uniform"
        z = (torch.rand if uniform else torch.randn)(n, self.cfg.z_dim, device=device, generator=generator)
        return (z * 2 - 1 if uniform else z).to(self.device)

    def _d_input(self, samples: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: instance noise added, then packed."""
        noise = self.tricks.instance_noise
        if noise is not None:
            std = noise.std_at(self._step)
            if std > 0:
                samples = samples + std * torch.randn_like(samples)
        return pack_samples(samples, self.tricks.pack)

    def _score(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        D = self.discriminator
        if self.tricks.d_batches == "joint":
            both = D(torch.cat([real, fake]))
            return both[: len(real)], both[len(real) :]
        return D(real), D(fake)

    def d_step(self, keep_graph: bool, update_if: UpdateRule | None = None) -> DStepResult:
        real_images = self._next_batch().images
        with torch.set_grad_enabled(keep_graph):
            fake = self.generator(self._latents(len(real_images)))
        shown_fake = self.replay.mix(fake) if self.replay is not None else fake.detach()
        real, shown_fake = self._d_input(real_images), self._d_input(shown_fake)
        real_out, fake_out = self._score(real, shown_fake)
        loss = self.objective.d_loss(real_out, fake_out)
        penalty = self.objective.penalty(self.discriminator, real, shown_fake)
        if penalty is not None:
            loss = loss + penalty
        result = DStepResult(loss.detach(), real_out.detach(), fake_out.detach(), real_images, fake)
        if update_if is None or update_if(result):
            opt = self.optimizers["discriminator"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self.objective.after_d_step(self.discriminator)
        return result

    def g_step(self, last: DStepResult, reuse_fake: bool) -> torch.Tensor:
        fake = last.fake if reuse_fake else self.generator(self._latents(len(last.real)))
        D = self.discriminator
        D.requires_grad_(False)  # G's step needs gradients through D, not for D's weights
        try:
            fake_out = D(self._d_input(fake))
            real_out = D(self._d_input(last.real)) if self.objective.uses_real_in_g_loss else None
            loss = self.objective.g_loss(fake_out, real_out)
            opt = self.optimizers["generator"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        finally:
            D.requires_grad_(True)
        if self.ema is not None:
            self.ema.update(self._step)
        return loss.detach()

    def fake_accuracy(self, result: DStepResult) -> torch.Tensor:
        """Share of the fakes D recognises: a probability below 1/2 for logit objectives; for critics a score below
        the batch's mean real score, for energies a reconstruction error above the mean real one."""
        if self.objective.scores == "logits":
            return (result.fake_out < 0).float().mean()
        below_real = result.fake_out < result.real_out.mean()
        return (below_real if self.objective.scores == "critic" else ~below_real).float().mean()

    # -- the recipe interface ------------------------------------------------------------------------------------

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        self._next_batch, self._step = next_batch, step
        last, g_loss, schedule_metrics = self.schedule.run(self, self.cfg.d_steps)
        return {
            "loss/d": last.loss,
            "loss/g": g_loss,
            "D(x)": self.objective.readout(last.real_out).mean(),
            "D(G(z))": self.objective.readout(last.fake_out).mean(),
            **self.objective.observe(last.real_out, last.fake_out),
            **schedule_metrics,
        }

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        # Latents come from a CPU generator so a seed gives the same samples on any device; eval mode uses
        # BatchNorm's running statistics, so sampling neither depends on the batch nor changes training state.
        z = self._latents(n, generator if generator is not None else torch.Generator())
        net = self.ema.net if self.ema is not None else self.generator
        was_training = net.training
        net.eval()
        try:
            return torch.cat([net(chunk) for chunk in z.split(SAMPLE_CHUNK)])
        finally:
            net.train(was_training)

    def extra_state(self) -> dict:
        state: dict = {"objective": self.objective.state_dict()}
        if self.replay is not None:
            state["replay"] = self.replay.state_dict()
        return state

    def load_extra_state(self, state: dict) -> None:
        self.objective.load_state_dict(state["objective"])
        if self.replay is not None:
            self.replay.load_state_dict(state["replay"])
