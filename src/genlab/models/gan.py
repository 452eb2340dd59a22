"""The GAN recipe: a generator, a discriminator, an objective, a schedule and optional tricks.

One training iteration is whatever the schedule makes of two moves: a discriminator step (draw a real batch and a
fake batch, score both, minimise the objective's D loss plus its penalty) and a generator step (minimise the
objective's G loss through the frozen discriminator). The tricks change what D sees (packing, instance noise,
replayed fakes, real and fake in one batch) or what sampling uses (an EMA of G); each is off by default. So does
differentiable augmentation (``augment``), applied first to every batch D sees, in both moves.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Annotated, Literal

import torch
from pydantic import model_validator
from torch import nn

from genlab import keys
from genlab.data import Batch
from genlab.errors import ConfigError
from genlab.keys import AdversarialSignals
from genlab.models.augment import AugmentConfig, DiffAugment
from genlab.models.base import RECIPES, ModelConfig, Recipe
from genlab.models.optim import OptimConfig, evaluating, frozen, gradient_norm
from genlab.models.schedules import SCHEDULES, DStepResult, Fixed, Schedule, UpdateRule
from genlab.models.tricks import EMA, EMAConfig, InstanceNoiseConfig, ReplayBuffer, ReplayConfig
from genlab.models.unrolled import UnrollConfig, check_unrollable, unrolled_critic
from genlab.nets import NETS, NetSpec
from genlab.nets.conditional import Condition, conditional_discriminator, conditional_generator
from genlab.nets.dcgan import DCGAN
from genlab.objectives import OBJECTIVES, Objective
from genlab.objectives.nonsaturating import NonSaturating
from genlab.objectives.penalties import Critic
from genlab.schema import Range, Section, register_section, registered

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
    usual advice); joint: one concatenated batch, so BatchNorm statistics mix both."""
    unroll: UnrollConfig | None = None
    """Unrolled GAN (Metz et al. 2017): G's loss through k differentiable plain-gradient steps of D on the
    objective's D loss (without penalty or clipping), on G's fakes and the last real batch scored apart; D trains
    as usual."""


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
    augment: AugmentConfig | None = None
    """DiffAugment (Zhao et al. 2020): random differentiable colour, translation and cutout on every image batch D
    sees, real and fake, in D's step and inside G's loss; for small data sets. null: off."""
    condition: Condition = "none"
    """Conditional GAN: G gets the one-hot class concatenated to z; D gets it as extra constant channels
    (channels, as in Mirza & Osindero 2014) or through a class-embedding projection term (projection). Needs labels."""

    @model_validator(mode="after")
    def _consistent(self) -> GANConfig:
        if self.condition != "none":
            clashes = {
                "model.tricks.pack > 1": self.tricks.pack > 1,
                "model.tricks.replay": self.tricks.replay is not None,
                f"the energy objective '{self.objective.name}'": self.objective.scores == "energy",
            }
            clash = [name for name, present in clashes.items() if present]
            if clash:
                raise ValueError(
                    f"model.condition '{self.condition}' cannot be combined with {', '.join(clash)}: packed groups "
                    "and replayed fakes have no single label, and an autoencoder D has no class score; "
                    "set model.condition: none or drop the trick"
                )
        check_scores(self.objective, self.discriminator)
        if self.schedule.name == "adaptive" and self.d_steps != 1:
            raise ValueError("the adaptive schedule sets the number of D steps itself; leave d_steps at 1")
        return self

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.tricks.pack:
            raise ValueError(
                f"train.batch_size ({batch_size}) must be a multiple of model.tricks.pack ({self.tricks.pack})"
            )

    def build(
        self,
        image_shape: tuple[int, ...],
        num_classes: int | None,
        device: torch.device,
        networks: tuple[nn.Module, nn.Module] | None = None,
    ) -> GAN:
        """The recipe for samples of ``image_shape``; ``networks``: a (generator, discriminator) pair of the user's
        to train instead of the configured architectures (a conditional pair takes the labels as second input)."""
        if self.condition == "none":
            return GAN(self, image_shape, device, networks=networks)
        if not num_classes:
            raise ConfigError(
                f"model.condition '{self.condition}' needs class labels, but the data set has none; "
                "use a labelled data set (digits, mnist, a folder with one sub-folder per class) or condition: none"
            )
        return GAN(self, image_shape, device, num_classes, networks)


def check_scores(objective: Objective, discriminator: NetSpec) -> None:
    """Raise ValueError unless an energy objective gets an autoencoder discriminator and only it does."""
    if (objective.scores == "energy") != (discriminator.outputs == "energy"):
        need = "needs" if objective.scores == "energy" else "cannot use"
        raise ValueError(
            f"objective '{objective.name}' {need} an autoencoder discriminator (one that outputs "
            "reconstruction energies); set discriminator: {arch: autoencoder}"
            + (" or pick a classifier objective" if need == "cannot use" else "")
        )


def pack_samples(samples: torch.Tensor, pack: int) -> torch.Tensor:
    """Join each run of ``pack`` consecutive samples along the channel (or feature) axis: (B, C, ...) ->
    (B / pack, pack * C, ...). D then judges groups, and a collapsed G shows as groups of near-copies."""
    if pack == 1:
        return samples
    b, c, *rest = samples.shape
    return samples.reshape(b // pack, pack * c, *rest)


def generate(net: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Samples of generator ``net`` for latents ``z`` (and ``labels``, a conditional one's second input), in eval
    mode and in chunks: BatchNorm then uses its running statistics, so a sample does not depend on its batch, and
    ``net``'s train/eval flag is restored afterwards. GAN runs and exported generators sample through it."""
    label_chunks = itertools.repeat(None) if labels is None else labels.split(SAMPLE_CHUNK)
    with evaluating(net):
        chunks = zip(z.split(SAMPLE_CHUNK), label_chunks)  # noqa: B905 (repeat() is endless)
        return torch.cat([net(zc) if lc is None else net(zc, lc) for zc, lc in chunks])


class GAN(Recipe):
    def __init__(
        self,
        cfg: GANConfig,
        sample_shape: tuple[int, ...],
        device: torch.device,
        num_classes: int | None = None,
        networks: tuple[nn.Module, nn.Module] | None = None,
    ):
        self.cfg = cfg
        self.device = device
        self.tricks = cfg.tricks
        self.num_classes = num_classes
        self.z_dim, self.prior = cfg.z_dim, cfg.latent
        if networks is not None:
            self.generator, self.discriminator = networks
        elif num_classes is None:
            packed_shape = (sample_shape[0] * cfg.tricks.pack, *sample_shape[1:])
            self.generator = cfg.generator.generator(cfg.z_dim, sample_shape)
            self.discriminator = cfg.discriminator.discriminator(packed_shape)
        else:
            self.generator = conditional_generator(cfg.generator, cfg.z_dim, sample_shape, num_classes)
            self.discriminator = conditional_discriminator(cfg.discriminator, sample_shape, num_classes, cfg.condition)
        self.generator, self.discriminator = self.generator.to(device), self.discriminator.to(device)
        self.objective = cfg.objective.model_copy(deep=True)  # it may hold training state (BEGAN's k)
        self.signals = AdversarialSignals(probabilities=self.objective.scores == "logits")
        self.schedule = cfg.schedule
        self.networks = {"generator": self.generator, "discriminator": self.discriminator}
        self.ema = EMA(self.generator, cfg.tricks.ema) if cfg.tricks.ema else None
        if self.ema is not None:
            self.networks["generator_ema"] = self.ema.net
        self.replay = ReplayBuffer(cfg.tricks.replay, sample_shape, device) if cfg.tricks.replay else None
        if cfg.tricks.unroll is not None:
            check_unrollable(self.discriminator, self.objective.scores)
        self.augment = self._augmentation(cfg.augment, sample_shape, device)
        self.optimizers = {
            "generator": cfg.g_optim.build(self.generator.parameters(), device),
            "discriminator": cfg.d_optim.build(self.discriminator.parameters(), device),
        }
        self._next_batch: Callable[[], Batch] | None = None
        self._step = 0
        self._d_steps = 0  # D steps taken so far, counted on the host: lazy regularisation picks its steps from it
        # What training runs through: the networks themselves, or their DistributedDataParallel and compiled
        # wrappers. G's update scores its fakes with _d_frozen: never the DistributedDataParallel wrapper, since
        # D's frozen weights get no gradients to average.
        self._g_train: torch.nn.Module = self.generator
        self._d_train: torch.nn.Module = self.discriminator
        self._d_frozen: torch.nn.Module = self.discriminator
        self._shard = (0, 1)  # (rank, world size): which slice of each global latent batch this process draws
        # Gradient norms of each network's last update, kept on the device for the trainer's logging interval.
        self._grad_norms = {name: torch.zeros((), device=device) for name in ("d", "g")}

    @staticmethod
    def _augmentation(
        cfg: AugmentConfig | None, sample_shape: tuple[int, ...], device: torch.device
    ) -> DiffAugment | None:
        """DiffAugment's parameter stream, seeded from the run's seed (``torch.manual_seed`` before building) without
        drawing from the global RNG, so switching it on changes nothing else of the run."""
        if cfg is None:
            return None
        if len(sample_shape) != 3:
            raise ConfigError(
                f"model.augment transforms images, but this data set holds vectors of shape {sample_shape}; "
                "set model.augment: null"
            )
        return DiffAugment(cfg, device, torch.initial_seed())

    # -- the two moves the schedule combines -------------------------------------------------------------------

    def _generate(self, net: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return net(z) if labels is None else net(z, labels)

    def _critic(self, labels: torch.Tensor | None, net: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """D (``net``: the trained wrapper or the bare network) as a function of its inputs alone (what objectives'
        penalties call), with the labels bound."""
        return net if labels is None else functools.partial(net, labels=labels)

    def _train_latents(self, n: int) -> torch.Tensor:
        """Latents for ``n`` training fakes: in data-parallel training this process's slice of one global draw, so
        N processes together use exactly the latents of one process with an N times larger batch."""
        rank, world_size = self._shard
        return self.latents(n * world_size)[rank * n : (rank + 1) * n]

    def _d_input(self, samples: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: augmented, instance noise added, then packed."""
        if self.augment is not None:
            samples = self.augment(samples)
        noise = self.tricks.instance_noise
        if noise is not None:
            std = noise.std_at(self._step)
            if std > 0:
                samples = samples + std * torch.randn_like(samples)
        return pack_samples(samples, self.tricks.pack)

    def _score(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.tricks.d_batches == "joint":
            both = self._critic(None if labels is None else labels.repeat(2), self._d_train)(torch.cat([real, fake]))
            return both[: len(real)], both[len(real) :]
        D = self._critic(labels, self._d_train)
        return D(real), D(fake)

    def d_step(self, keep_graph: bool, update_if: UpdateRule | None = None) -> DStepResult:
        batch = self._next_batch()
        real_images = batch.images
        # A conditional G draws the real batch's classes: the class frequencies match the data, and real and fake
        # inputs at the same position share a label, so penalties on interpolates see consistent labels.
        labels = batch.labels if self.num_classes is not None else None
        with torch.set_grad_enabled(keep_graph):
            fake = self._generate(self._g_train, self._train_latents(len(real_images)), labels)
        shown_fake = self.replay.mix(fake) if self.replay is not None else fake.detach()
        real, shown_fake = self._d_input(real_images), self._d_input(shown_fake)
        real_out, fake_out = self._score(real, shown_fake, labels)
        loss = self.objective.d_loss(real_out, fake_out)
        penalty = self.objective.penalty(self._critic(labels, self._d_train), real, shown_fake, self._d_steps)
        if penalty is not None:
            loss = loss + penalty
        self._d_steps += 1
        result = DStepResult(loss.detach(), real_out.detach(), fake_out.detach(), real_images, fake, labels)
        if update_if is None or update_if(result):
            opt = self.optimizers["discriminator"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            self._grad_norms["d"] = gradient_norm(opt)
            opt.step()
            self.objective.after_d_step(self.discriminator)
        return result

    def g_step(self, last: DStepResult, reuse_fake: bool) -> torch.Tensor:
        if reuse_fake:
            fake = last.fake
        else:
            fake = self._generate(self._g_train, self._train_latents(len(last.real)), last.labels)
        D = self._critic(last.labels, self._d_frozen)
        with frozen(self.discriminator):
            shown = self._d_input(fake)
            if self.tricks.unroll is not None:
                D = self._unrolled(shown, last)
            fake_out = D(shown)
            # Only relativistic objectives score the reals here (instance noise draws random numbers for them).
            real_out = D(self._d_input(last.real)) if self.objective.uses_real_in_g_loss else None
            loss = self.objective.g_loss(fake_out, real_out)
            penalty = self.objective.g_penalty(self.discriminator, shown)
            if penalty is not None:
                loss = loss + penalty
            opt = self.optimizers["generator"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            self._grad_norms["g"] = gradient_norm(opt)
            opt.step()
        if self.ema is not None:
            self.ema.update(self._step, len(last.real) * self._shard[1])  # the global batch: all processes' images
        return loss.detach()

    def _unrolled(self, shown: torch.Tensor, last: DStepResult) -> Critic:
        """D looked ``tricks.unroll.steps`` steps ahead on the fakes ``shown`` to it and the last real batch, with
        G's fakes kept in the graph (models/unrolled.py); k = 0 draws nothing, so it is the plain G step exactly."""
        unroll = self.tricks.unroll
        real = self._d_input(last.real) if unroll.steps else None
        lr = unroll.lr if unroll.lr is not None else self.cfg.d_optim.lr

        def d_loss(D: Critic) -> torch.Tensor:
            return self.objective.d_loss(D(real), D(shown))

        return unrolled_critic(self.discriminator, d_loss, unroll.steps, lr, last.labels)

    def fake_accuracy(self, result: DStepResult) -> torch.Tensor:
        """Share of the fakes D recognises: a probability below 1/2 for logit objectives; for critics a score below
        the batch's mean real score, for energies a reconstruction error above the mean real one."""
        if self.objective.scores == "logits":
            return (result.fake_out < 0).float().mean()
        below_real = result.fake_out < result.real_out.mean()
        return (below_real if self.objective.scores == "critic" else ~below_real).float().mean()

    # -- the recipe interface ------------------------------------------------------------------------------------

    def distribute(self, wrap: Callable[[torch.nn.Module], torch.nn.Module], rank: int, world_size: int) -> None:
        if self.schedule.name != "fixed":
            raise ConfigError(
                f"model.schedule '{self.schedule.name}' decides from this process's own losses, so processes would "
                "make different numbers of updates; multi-process training needs schedule: fixed"
            )
        self._g_train, self._d_train = wrap(self.generator), wrap(self.discriminator)
        self._shard = (rank, world_size)

    def compile(self, compiled: Callable[[torch.nn.Module], torch.nn.Module]) -> list[str]:
        self._g_train = compiled(self._g_train)
        if self.objective.gp_weight > 0:
            return [
                "the discriminator trains uncompiled: its gradient penalty differentiates D twice, which "
                "torch.compile does not support (the generator is compiled)"
            ]
        d_train = compiled(self._d_train)
        self._d_frozen = d_train if self._d_frozen is self._d_train else compiled(self._d_frozen)
        self._d_train = d_train
        return []

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        self._next_batch, self._step = next_batch, step
        if self.augment is not None:
            self.augment.reseed(step, self._shard[0])
        last, g_loss, schedule_metrics = self.schedule.run(self, self.cfg.d_steps)
        return {
            keys.D_LOSS: last.loss,
            keys.G_LOSS: g_loss,
            keys.D_REAL: self.objective.readout(last.real_out).mean(),
            keys.D_FAKE: self.objective.readout(last.fake_out).mean(),
            keys.GRAD_D: self._grad_norms["d"],
            keys.GRAD_G: self._grad_norms["g"],
            **self.objective.observe(last.real_out, last.fake_out),
            **schedule_metrics,
        }

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        # Eval mode uses BatchNorm's running statistics, so samples neither depend on the batch nor change training
        # state; the EMA copy of G, when kept, is the one that samples.
        net = self.ema.net if self.ema is not None else self.generator
        if (labels is None) != (self.num_classes is None):
            raise ValueError("labels are needed by conditional generators and only by them")
        return generate(net, z.to(self.device), None if labels is None else labels.to(self.device))

    def extra_state(self) -> dict:
        state: dict = {"objective": self.objective.state_dict(), "d_steps": self._d_steps}
        if self.replay is not None:
            state["replay"] = self.replay.state_dict()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        if self.augment is not None:
            state["augment"] = self.augment.state_dict()
        return state

    def load_extra_state(self, state: dict) -> None:
        self.objective.load_state_dict(state["objective"])
        self._d_steps = state.get("d_steps", 0)  # checkpoints before lazy regularisation: their runs never needed it
        if self.replay is not None:
            self.replay.load_state_dict(state["replay"])
        if self.ema is not None and "ema" in state:  # checkpoints before the half-life in images lack its count
            self.ema.load_state_dict(state["ema"])
        if self.augment is not None and "augment" in state:  # a run that switched augmentation on at resume
            self.augment.load_state_dict(state["augment"])
