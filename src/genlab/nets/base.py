"""Network architectures chosen by name: each builds a generator and a discriminator for a sample shape.

A sample shape is an image shape (C, H, W) or a vector shape (D,) (2-D toy data have D = 2). Recipes that pack
several samples into one discriminator input (PacGAN) simply pass the packed shape, (m*C, H, W) or (m*D,), so the
architectures need no packing logic of their own.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Iterable, Iterator
from typing import ClassVar, Literal, Protocol, runtime_checkable

from torch import nn
from torch.nn.utils import parametrizations

from genlab.errors import ConfigError
from genlab.registry import Registry
from genlab.schema import Section

Shape = tuple[int, ...]
"""(C, H, W) for images, (D,) for vectors."""

MIN_SIZE, MAX_SIZE = 8, 256
"""Image sides that the convolutional architectures support (powers of two between these)."""

_NORMALISED_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)


class NetSpec(Section):
    """Settings of one architecture; ``arch`` picks the class registered in :data:`NETS`.

    Subclasses implement :meth:`build_generator` and :meth:`build_discriminator`; callers use :meth:`generator` and
    :meth:`discriminator`, which check the shape and apply the options every architecture shares (:meth:`finish`),
    so a new architecture gets them without code of its own.
    """

    arch: str = "dcgan"
    outputs: ClassVar[Literal["scores", "energy"]] = "scores"
    """What the discriminator returns: a score (logit or critic value) or a reconstruction energy (EBGAN, BEGAN)."""
    spectral_norm: bool = False
    """Spectrally normalise every conv and linear weight of the network this spec builds (Miyato et al. 2018).

    The flag acts on whichever network the spec is used for: on the discriminator's spec it gives SNGAN, on the
    generator's spec as well it gives SAGAN-style normalisation of both networks. Each config names the two
    networks' specs separately, so setting it for one never changes the other.
    """

    def generator(self, z_dim: int, shape: Shape) -> nn.Module:
        """A module mapping latent vectors (B, z_dim) to samples (B, *shape); images come out in [-1, 1]."""
        return self.finish(self.build_generator(z_dim, check_shape(shape, self.arch)))

    def discriminator(self, shape: Shape) -> nn.Module:
        """A module mapping samples (B, *shape) to one raw score (logit, critic value or energy) each, shape (B,)."""
        return self.finish(self.build_discriminator(check_shape(shape, self.arch)))

    def build_generator(self, z_dim: int, shape: Shape) -> nn.Module:
        raise ConfigError(
            f"the {self.arch} architecture has no generator; use it for the discriminator only "
            f"and choose another architecture (e.g. dcgan) for the generator"
        )

    def build_discriminator(self, shape: Shape) -> nn.Module:
        raise ConfigError(f"the {self.arch} architecture has no discriminator; choose another one for it")

    def finish(self, module: nn.Module) -> nn.Module:
        """Apply the options shared by all architectures to a freshly built (and initialised) network.

        Spectral norm wraps the weights after the architecture's own initialisation, so the initial weights keep
        their direction and only their scale is normalised. Each wrapped weight is divided by its largest singular
        value, estimated by one power iteration per training-mode forward pass; as in the paper (and PyTorch), a
        conv weight is treated as the matrix (out channels, in channels * kernel size).
        """
        if self.spectral_norm:
            for layer in list(module.modules()):
                if isinstance(layer, _NORMALISED_LAYERS):
                    parametrizations.spectral_norm(layer)
        return module


class ConvNetSpec(NetSpec):
    """An architecture for square images whose side is a power of two, built from 4x4 in ``stages`` doublings.

    It checks the shape once for both networks; subclasses implement :meth:`conv_generator` and
    :meth:`conv_discriminator`.
    """

    def build_generator(self, z_dim: int, shape: Shape) -> nn.Module:
        channels, _, stages = image_stages(shape, self.arch)
        return self.conv_generator(z_dim, channels, stages)

    def build_discriminator(self, shape: Shape) -> nn.Module:
        channels, _, stages = image_stages(shape, self.arch)
        return self.conv_discriminator(channels, stages)

    def conv_generator(self, z_dim: int, channels: int, stages: int) -> nn.Module:
        raise NotImplementedError

    def conv_discriminator(self, channels: int, stages: int) -> nn.Module:
        raise NotImplementedError


NETS: Registry[type[NetSpec]] = Registry("architecture")


def is_image(shape: Shape) -> bool:
    return len(shape) == 3


def check_shape(shape: Shape, arch: str) -> Shape:
    """Reject shapes that are neither (C, H, W) nor (D,), so architectures can branch on :func:`is_image`."""
    try:
        sizes = tuple(operator.index(n) for n in shape)
    except TypeError:
        sizes = ()
    if len(sizes) not in (1, 3) or min(sizes) < 1:
        raise ConfigError(
            f"the {arch} architecture needs an image shape (C, H, W) or a vector shape (D,) of positive sizes; "
            f"got {shape!r}"
        )
    return sizes


def image_stages(shape: Shape, arch: str) -> tuple[int, int, int]:
    """(channels, side, number of 2x resolution steps between 4x4 and the side) of a supported image shape.

    The convolutional architectures build their networks from 4x4 up (or down to 4x4) in factors of two, so they
    need square images whose side is a power of two; the error says so, and what to use for vector data.
    """
    if not is_image(shape):
        raise ConfigError(
            f"the {arch} architecture needs image data of shape (C, H, W); got the vector shape {shape} "
            f"(use the mlp architecture for vector data)"
        )
    channels, height, width = shape
    if height != width or not (MIN_SIZE <= height <= MAX_SIZE) or height & (height - 1):
        raise ConfigError(
            f"the {arch} architecture needs square images whose side is a power of two in [{MIN_SIZE}, {MAX_SIZE}]; "
            f"got {height}x{width} (set data.size)"
        )
    return channels, height, int(math.log2(height)) - 2


@runtime_checkable
class OwnTruncation(Protocol):
    """A generator with a latent space of its own (StyleGAN's w) in which it applies the truncation trick itself.

    Clamping z would barely act on such a generator (its mapping network undoes it), so sampling asks every network
    that has this method to truncate in its own space instead: within the block, its eval-mode passes move their
    latents towards their mean by ψ.
    """

    def truncated(self, psi: float) -> contextlib.AbstractContextManager[None]: ...


@contextlib.contextmanager
def own_truncation(networks: Iterable[nn.Module], psi: float) -> Iterator[bool]:
    """Switch on truncation by ``psi`` in every module of ``networks`` (wrappers' inner generators and EMA copies
    too) that truncates in its own space; yields whether any does, so that the caller truncates z only otherwise."""
    own = [module for net in networks for module in net.modules() if isinstance(module, OwnTruncation)]
    with contextlib.ExitStack() as stack:
        for module in own:
            stack.enter_context(module.truncated(psi))
        yield bool(own)


def last_layer(net: nn.Module) -> nn.Module:
    """The last ``nn.Conv2d`` or ``nn.Linear`` of ``net`` in registration order (spectral-norm wrapped ones too)."""
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if not layers:
        raise ValueError(
            f"{type(net).__name__} has no nn.Conv2d or nn.Linear layer whose input could serve as features"
        )
    return layers[-1]
