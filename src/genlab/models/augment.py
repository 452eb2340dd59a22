"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) of everything a GAN's discriminator sees.

On a small data set D memorises the real images and its feedback to G collapses. Augmenting only the reals would
teach G to make augmented-looking images; DiffAugment instead applies random transforms to every batch D sees,
real and fake, in D's step and inside G's loss, with transforms built from differentiable tensor operations, so G's
gradient flows through them. The policies are the paper's:

* ``color``: brightness shifted by U[-0.5, 0.5], saturation scaled by U[0, 2] (the distance of each pixel from
  its mean over channels: a no-op on one-channel images), contrast scaled by U[0.5, 1.5] (distance from the image
  mean);
* ``translation``: a shift by up to 1/8 of the image side in each direction, padding with zeros;
* ``cutout``: a square of half the side, set to zero (always wholly inside the image; the paper's may be clipped
  by the border, which makes it smaller there).

Every image draws its own parameters, and by default every batch its own: the real and the fake batch are augmented
apart, as in the paper's code, so D cannot tell them by a shared transform. The policies named in ``shared`` are
instead drawn once per training step: image i of every batch of the step (the real and the fake batch of D's step,
the fakes of G's loss) gets the same parameters and the same choice of whether the policy applies, the reading of
"the same random transform on real and fake images" that pairs real i with fake i. The draws come from private
generators on the recipe's device, reseeded from the run's seed and the step at every training step: no host
synchronisation, the global RNG is untouched (``p: 0`` trains bit for bit as without augmentation), and a resumed
run draws the same parameters as one that never stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import torch
from pydantic import model_validator

from genlab.data.order import mixed_seed
from genlab.schema import Range, Section

Policy = Literal["color", "translation", "cutout"]
TRANSLATION_RATIO = 1 / 8
CUTOUT_RATIO = 1 / 2


class AugmentConfig(Section):
    policy: tuple[Policy, ...] = ("color", "translation", "cutout")
    """Transforms applied in this order to every batch D sees: color, translation, cutout (the paper's full
    policy; it recommends all three with little data)."""
    p: Annotated[float, Range(ge=0, le=1)] = 1.0
    """Probability that each policy is applied to an image (drawn per image and policy; color's three changes go
    together); 1, the paper's choice, transforms every image."""
    shared: tuple[Policy, ...] = ()
    """Policies whose parameters every batch of a training step shares image by image (real i and fake i get the
    same shift, say); the others are drawn apart for every batch, as in the paper."""

    @model_validator(mode="after")
    def _distinct(self) -> AugmentConfig:
        if not self.policy or len(set(self.policy)) != len(self.policy):
            raise ValueError(
                f"model.augment.policy must name each of color, translation, cutout at most once and at least one "
                f"of them, got {list(self.policy)}; set model.augment: null to switch augmentation off"
            )
        unused = [name for name in self.shared if name not in self.policy]
        if unused:
            raise ValueError(
                f"model.augment.shared names {unused}, which model.augment.policy {list(self.policy)} does not "
                "apply; add them to the policy or remove them from shared"
            )
        return self


def _per_image(values: torch.Tensor) -> torch.Tensor:
    """A (B,) vector of parameters shaped to broadcast over (B, C, H, W) images."""
    return values.view(-1, 1, 1, 1)


def brightness(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Each image plus its ``shift`` (B,)."""
    return x + _per_image(shift)


def saturation(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Each pixel's distance from its mean over the channels scaled by its image's ``factor`` (B,)."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * _per_image(factor) + mean


def contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Each image's distance from its mean (over channels and pixels) scaled by its ``factor`` (B,)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _per_image(factor) + mean


def _shifted_axis(x: torch.Tensor, shift: torch.Tensor, dim: int) -> torch.Tensor:
    """``x`` moved by ``shift`` (B,) pixels along ``dim`` (2: down, 3: right), with zeros where nothing moved in."""
    size = x.shape[dim]
    source = torch.arange(size, device=x.device) - shift.view(-1, 1)  # (B, size): where each output pixel reads
    inside = (source >= 0) & (source < size)
    view = (-1, 1, size, 1) if dim == 2 else (-1, 1, 1, size)
    index = source.clamp(0, size - 1).view(view).expand_as(x)
    return torch.where(inside.view(view), x.gather(dim, index), torch.zeros((), dtype=x.dtype, device=x.device))


def translate(x: torch.Tensor, down: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Each image shifted by ``down`` rows and ``right`` columns (B,) integers, negative for up and left."""
    return _shifted_axis(_shifted_axis(x, down, 2), right, 3)


def cut_out(x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: int) -> torch.Tensor:
    """Each image with the ``size`` × ``size`` square at (``top``, ``left``) (B,) set to zero."""
    rows = torch.arange(x.shape[2], device=x.device) - top.view(-1, 1)
    cols = torch.arange(x.shape[3], device=x.device) - left.view(-1, 1)
    in_rows, in_cols = (rows >= 0) & (rows < size), (cols >= 0) & (cols < size)
    square = in_rows.view(-1, 1, x.shape[2], 1) & in_cols.view(-1, 1, 1, x.shape[3])
    return x * (~square).to(x.dtype)


Draw = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _uniform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(len(x), generator=generator, device=x.device, dtype=x.dtype)


def _integers(x: torch.Tensor, generator: torch.Generator, low: int, high: int) -> torch.Tensor:
    """(B,) integers in [low, high]."""
    return torch.randint(low, high + 1, (len(x),), generator=generator, device=x.device)


def random_color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    x = brightness(x, _uniform(x, generator) - 0.5)
    x = saturation(x, _uniform(x, generator) * 2)
    return contrast(x, _uniform(x, generator) + 0.5)


def random_translation(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    reach_y, reach_x = (int(side * TRANSLATION_RATIO + 0.5) for side in x.shape[2:])
    down = _integers(x, generator, -reach_y, reach_y)
    return translate(x, down, _integers(x, generator, -reach_x, reach_x))


def random_cutout(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    size = int(min(x.shape[2:]) * CUTOUT_RATIO + 0.5)
    top = _integers(x, generator, 0, x.shape[2] - size)
    return cut_out(x, top, _integers(x, generator, 0, x.shape[3] - size), size)


POLICIES: dict[str, Draw] = {"color": random_color, "translation": random_translation, "cutout": random_cutout}


class DiffAugment:
    """The configured policies as one random, differentiable map of (B, C, H, W) batches.

    Call :meth:`reseed` at the start of every training step; each call then draws fresh parameters per image from
    the step's stream, so the n-th batch augmented in a step gets the same parameters in every run of that step.
    The shared policies draw from a second stream that restarts at every call, so every batch of the step reads
    the same draws from it.
    """

    def __init__(self, cfg: AugmentConfig, device: torch.device, seed: int):
        self.cfg = cfg
        self.seed = seed
        self.generator = torch.Generator(device=device)
        self.shared_generator = torch.Generator(device=device)
        self._shared_seed = 0

    def reseed(self, step: int, rank: int = 0) -> None:
        """Start the parameter streams of training ``step`` (of process ``rank``: its own images, its own draws)."""
        self.generator.manual_seed(mixed_seed(self.seed, step, rank))
        self._shared_seed = mixed_seed(self.seed, step, rank, 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.shared_generator.manual_seed(self._shared_seed)
        for name in self.cfg.policy:
            generator = self.shared_generator if name in self.cfg.shared else self.generator
            augmented = POLICIES[name](x, generator)
            chosen = _uniform(x, generator) < self.cfg.p
            x = torch.where(_per_image(chosen), augmented, x)
        return x

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        self.seed = int(state["seed"])
