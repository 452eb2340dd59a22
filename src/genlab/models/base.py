"""What a model family (recipe) provides to the shared trainer.

A recipe owns its networks and optimisers and implements one training step; the trainer owns everything else
(data sampling, logging, checkpoints, signals). Its state is plain tensors and containers so checkpoints load with
``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
from torch import nn

from genlab.data import Batch
from genlab.errors import CheckpointError
from genlab.registry import Registry
from genlab.schema import Section


class Recipe:
    """Base class: subclasses fill :attr:`networks` and :attr:`optimizers` and implement the two methods below."""

    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    generative: ClassVar[bool] = True
    """Whether :meth:`sample` draws new samples (the trainer writes sample grids only for generative recipes)."""

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        """One training iteration; draws as many batches as it needs.

        Returns scalar tensors to log, left on the device: reading them here would stall the device every step.
        """
        raise NotImplementedError

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` generated images in [-1, 1], without side effects on training state or the global RNG."""
        raise NotImplementedError

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
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"the checkpoint does not match this model ({type(exc).__name__}: {exc})") from None


class ModelConfig(Section):
    """Settings of one recipe; ``recipe`` picks the class registered in :data:`RECIPES`."""

    recipe: str = "gan"

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> Recipe:
        raise NotImplementedError

    def check_batch_size(self, batch_size: int) -> None:
        """Raise ValueError (naming the fields) when ``train.batch_size`` does not suit this model."""


RECIPES: Registry[type[ModelConfig]] = Registry("recipe")
