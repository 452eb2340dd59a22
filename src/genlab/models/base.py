"""What a model family (recipe) provides to the shared trainer.

A recipe owns its networks and optimisers and implements one training step; the trainer owns everything else
(data sampling, logging, checkpoints, signals). Its state is plain tensors and containers so checkpoints load with
``weights_only=True``. Periodic actions that belong to a family (an autoencoder's reconstruction grids, a
generator's mode statistics on a 2-D mixture) come from :meth:`Recipe.hooks`; the trainer runs them beside the
generic ones without knowing which family it trains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from genlab.data import Batch, DataConfig, TrainingSet
from genlab.data.toy import MIXTURES
from genlab.errors import CheckpointError, ConfigError, GenlabError, one_line
from genlab.hooks import Hook
from genlab.keys import AdversarialSignals
from genlab.models.hooks import ModeStatistics, PreviewGrid
from genlab.models.prior import Prior, TruncationMode, draw_latents
from genlab.nets.base import own_truncation
from genlab.registry import Registry
from genlab.schema import Section


@dataclass(frozen=True)
class HookContext:
    """What a recipe's hooks may need of the run: its training data and when and from which seed to draw."""

    data: TrainingSet
    """The training set (fixed real images for previews; its name tells a 2-D mixture)."""
    every: int
    """Steps between pictures and statistics (``train.sample_every``; 0: only at the end)."""
    seed: int
    """Latent seed of pictures and statistics (the run's seed): the same latents at every step."""

    @property
    def images(self) -> bool:
        return len(self.data.shape) == 3


class Recipe:
    """Base class: subclasses fill :attr:`networks` and :attr:`optimizers` and implement :meth:`train_step`;
    generative ones also set :attr:`z_dim` (and :attr:`prior`, :attr:`num_classes`) and implement :meth:`decode`,
    from which :meth:`latents` and :meth:`sample` follow."""

    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    generative: ClassVar[bool] = True
    """Whether :meth:`sample` draws new samples (sample grids, evaluation and the doctor apply only then)."""
    device: torch.device
    z_dim: int
    """Size of a latent vector (generative recipes)."""
    prior: Prior = "normal"
    num_classes: int | None = None
    """Classes a conditional recipe generates on request; None for unconditional ones."""
    signals: AdversarialSignals | None = None
    """Two-player recipes: what they log for the training doctor's balance checks (None: no such checks)."""

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        """One training iteration; draws as many batches as it needs.

        Returns scalar tensors to log, left on the device: reading them here would stall the device every step.
        """
        raise NotImplementedError

    def distribute(self, wrap: Callable[[nn.Module], nn.Module], rank: int, world_size: int) -> None:
        """Prepare for data-parallel training as process ``rank`` of ``world_size``: train through ``wrap(net)``
        (DistributedDataParallel) and draw this process's share of every random batch."""
        raise ConfigError(
            f"the {type(self).__name__} recipe does not support multi-process training yet; run it in one process"
        )

    def compile(self, compiled: Callable[[nn.Module], nn.Module]) -> list[str]:
        """Train through ``compiled(net)`` (torch.compile, after any :meth:`distribute` wrapping) where that is
        possible; returns notes on the parts left uncompiled and why. Sampling keeps the plain networks."""
        raise ConfigError(
            f"the {type(self).__name__} recipe has no compiled training step yet; set accel.compile: false"
        )

    def latents(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        truncation: float | None = None,
        truncation_mode: TruncationMode = "resample",
    ) -> torch.Tensor:
        """``n`` draws of the :attr:`prior` (optionally truncated) on :attr:`device`, from ``generator`` when given
        (on its device) else from the global RNG there."""
        if not self.generative:
            raise GenlabError(f"a {type(self).__name__} does not generate samples; it has no latent space")
        z = draw_latents(
            n,
            self.z_dim,
            self.prior,
            generator=generator,
            truncation=truncation,
            mode=truncation_mode,
            device=self.device,
        )
        return z.to(self.device)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples for latent vectors ``z`` (and class ``labels`` for conditional recipes), in eval mode.

        Gradients flow back to ``z`` when autograd is on, which is what classifier-guided edits need; the networks'
        train/eval flags are restored afterwards.
        """
        raise NotImplementedError

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Latent codes of images in [-1, 1] (autoencoders and VAEs: the encoder's mean); GANs have no encoder."""
        raise GenlabError(
            f"a {type(self).__name__} has no encoder, so it cannot map real images to latents; "
            "interpolating between real images needs an autoencoder or VAE run"
        )

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Reconstructions of images in [-1, 1] (autoencoders and VAEs)."""
        raise GenlabError(f"a {type(self).__name__} does not reconstruct images")

    def default_labels(self, n: int) -> torch.Tensor | None:
        """Balanced labels 0, 1, ..., K-1, 0, 1, ... for ``n`` samples of a conditional recipe (None otherwise)."""
        return None if self.num_classes is None else torch.arange(n) % self.num_classes

    def check_labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """``labels`` (or the default ones) on the recipe's device, checked against the recipe's classes."""
        if labels is None:
            return self.default_labels(n)
        if self.num_classes is None:
            raise GenlabError(
                "this generator is unconditional and cannot generate a chosen class; "
                "train a conditional one (model.condition: channels or projection)"
            )
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if len(labels) != n or labels.min() < 0 or labels.max() >= self.num_classes:
            raise GenlabError(f"need {n} class labels in 0..{self.num_classes - 1}, got {labels.tolist()[:10]}")
        return labels

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        labels: torch.Tensor | None = None,
        truncation: float | None = None,
        truncation_mode: TruncationMode = "resample",
    ) -> torch.Tensor:
        """``n`` generated samples without side effects on training state or the global RNG.

        Latents come from a CPU generator (a fresh unseeded one without ``generator``) so a seed gives the same
        samples on any device. Conditional recipes generate ``labels`` (default: balanced, see
        :meth:`default_labels`). ``truncation`` ψ keeps every component of z within [-ψ, ψ], except for generators
        that truncate in a latent space of their own (:class:`genlab.nets.base.OwnTruncation`, the style
        generator's w' = w̄ + ψ (w - w̄)): their z is drawn untruncated.
        """
        labels = self.check_labels(labels, n)
        generator = generator if generator is not None else torch.Generator()
        if truncation is None:
            return self.decode(self.latents(n, generator=generator), labels)
        with own_truncation(self.networks.values(), truncation) as in_own_space:
            if not in_own_space and truncation <= 0:
                raise GenlabError(
                    f"truncation {truncation} would keep every latent component within +-{truncation}; this "
                    "generator truncates z, which needs a threshold > 0 (only a style generator, which moves w "
                    "towards its mean, takes 0: the mean image)"
                )
            z = self.latents(
                n,
                generator=generator,
                truncation=None if in_own_space else truncation,
                truncation_mode=truncation_mode,
            )
            return self.decode(z, labels)

    def hooks(self, context: HookContext) -> list[Hook]:
        """Periodic actions of this model family, run by the trainer beside the generic ones (sample pictures,
        evaluation, doctor, checkpoints). By default: for a generator trained on a 2-D mixture, its mode
        statistics at every picture step."""
        mixture = MIXTURES.get(context.data.name)
        if not self.generative or mixture is None:
            return []
        return [ModeStatistics(self.sample, mixture, context.every, context.seed)]

    def stage_end(self, steps_done: int) -> str | None:
        """A name when training after ``steps_done`` steps finishes a stage that deserves its own sample grid (a
        progressive GAN's resolution); None otherwise."""
        return None

    def extra_state(self) -> dict:
        """State beyond networks and optimisers (EMA copies, schedules, adaptive variables)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        """Restore what :meth:`extra_state` returned."""

    def state_dict(self) -> dict:
        return {
            "networks": {name: net.state_dict() for name, net in self.networks.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict, *, weights_only: bool = False) -> None:
        """Restore a :meth:`state_dict`; with ``weights_only`` just the networks (for sampling)."""
        try:
            for name, net in self.networks.items():
                net.load_state_dict(state["networks"][name])
            if not weights_only:
                for name, opt in self.optimizers.items():
                    opt.load_state_dict(state["optimizers"][name])
                self.load_extra_state(state["extra"])
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"the checkpoint does not match this model ({one_line(exc)})") from None


@dataclass(frozen=True)
class RunDefaults:
    """What a model config may read of the rest of the run's config to fill in its unset values."""

    batch_size: int
    """``train.batch_size``."""
    data: DataConfig
    eval_features: str
    """``eval.features``: the evaluation suite's feature space."""


class ModelConfig(Section):
    """Settings of one recipe; ``recipe`` picks the class registered in :data:`RECIPES`."""

    recipe: str = "gan"
    paired: ClassVar[bool] = False
    """Whether the recipe trains on (input, target) pairs, which ``data.pair`` makes (and only such recipes)."""

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> Recipe:
        raise NotImplementedError

    def check_batch_size(self, batch_size: int) -> None:
        """Raise ValueError (naming the fields) when ``train.batch_size`` does not suit this model."""

    def with_run_defaults(self, run: RunDefaults) -> ModelConfig:
        """These settings with what they leave to the rest of the ``run``'s config filled in (the perceptual loss's
        network: the evaluation suite's classifier); unchanged by default. The filled-in values are what the run
        folder's config.yaml records."""
        return self


RECIPES: Registry[type[ModelConfig]] = Registry("recipe")


def reconstruction_grid(recipe: Recipe, context: HookContext) -> PreviewGrid:
    """Grids of fixed real images beside the recipe's reconstructions of them, at every picture step."""
    return PreviewGrid(context.data, recipe.device, lambda x: [recipe.reconstruct(x)], "reconstructions", context.every)
