"""Learning-rate decay over a run, shared by every recipe's optimisers.

Annealing the learning rate towards zero at the end of training lets the networks settle instead of jittering
around a solution with the step size of the whole run: on the toy mixtures it is what turns "roughly at the
modes" into "within 3 std of them". The factor is a pure function of the step, so a resumed run gets exactly the
learning rates the uninterrupted run had, with nothing extra to checkpoint.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

DecayKind = Literal["none", "linear", "cosine"]


def lr_factor(step: int, total: int, kind: DecayKind, start: float) -> float:
    """Multiplier of the base learning rate at ``step`` of ``total``: 1 until ``start`` (a fraction of the run),
    then falling to 0 at the last step, linearly or along a half cosine."""
    if kind == "none":
        return 1.0
    begin = start * total
    if step <= begin:
        return 1.0
    progress = min(1.0, (step - begin) / max(total - begin, 1))
    return 1.0 - progress if kind == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))


class LRDecay:
    """Sets every optimiser's learning rates to their configured values times :func:`lr_factor`."""

    def __init__(self, optimizers: dict[str, torch.optim.Optimizer], total: int, kind: DecayKind, start: float):
        self.optimizers = optimizers
        self.total, self.kind, self.start = total, kind, start
        self.base = {name: [group["lr"] for group in opt.param_groups] for name, opt in optimizers.items()}

    def apply(self, step: int) -> None:
        if self.kind == "none":
            return
        factor = lr_factor(step, self.total, self.kind, self.start)
        for name, opt in self.optimizers.items():
            for group, base in zip(opt.param_groups, self.base[name], strict=True):
                group["lr"] = base * factor
