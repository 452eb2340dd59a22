"""Optimiser settings shared by every recipe (one section per network, so G and D can differ: TTUR, Adam/SGD)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

import torch

from genlab.schema import Range, Section

Beta = Annotated[float, Range(ge=0, lt=1)]


class OptimConfig(Section):
    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    lr: Annotated[float, Range(gt=0, le=10)] = 2e-4
    betas: tuple[Beta, Beta] = (0.5, 0.999)
    """Adam only; DCGAN's beta1 = 0.5 (the default 0.9 makes GAN training oscillate)."""
    momentum: Annotated[float, Range(ge=0, lt=1)] = 0.0
    """SGD and RMSProp only."""
    weight_decay: Annotated[float, Range(ge=0)] = 0.0

    def build(self, params: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        if self.name == "adam":
            return torch.optim.Adam(params, lr=self.lr, betas=self.betas, weight_decay=self.weight_decay)
        if self.name == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)
        return torch.optim.RMSprop(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)
