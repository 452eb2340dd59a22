"""DCGAN (Radford et al. 2015): strided (transposed) convolutions, BatchNorm, ReLU in G, LeakyReLU in D, tanh out.

Both networks follow the seeds' architecture guidelines: no pooling and no fully connected hidden layers, BatchNorm
everywhere except G's output and D's input layers, weights drawn from N(0, 0.02). The channel count doubles every
time the resolution halves, starting from ``width`` channels at half the image size; the generator is the mirror
image of the discriminator, so for 64x64 images and width 64 they match the reference DCGAN exactly.
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated

import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.nets.base import NETS, NetSpec
from genlab.schema import Range, register_section

MIN_SIZE, MAX_SIZE = 8, 256


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _stages(size: int) -> int:
    """Number of stride-2 layers between 4x4 and ``size``; checks that DCGAN supports the size."""
    if not (MIN_SIZE <= size <= MAX_SIZE) or size & (size - 1):
        raise ConfigError(
            f"the dcgan architecture needs square images whose side is a power of two in [{MIN_SIZE}, {MAX_SIZE}]; "
            f"data.size is {size}"
        )
    return int(math.log2(size)) - 2


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, size: int, width: int):
        super().__init__()
        stages = _stages(size)
        widths = [width * 2 ** (stages - 1 - i) for i in range(stages)]  # channels at 4x4, 8x8, ..., size/2
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.z_dim = z_dim
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    def __init__(self, channels: int, size: int, width: int):
        super().__init__()
        stages = _stages(size)
        widths = [width * 2**i for i in range(stages)]  # channels at size/2, ..., 4x4
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [
                nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0)]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).view(images.shape[0])


@register_section(NETS, key="arch")
class DCGAN(NetSpec):
    arch: str = "dcgan"
    width: Annotated[int, Range(ge=1, le=4096)] = 64
    """Channels at half the image size; doubled at every further halving (ngf / ndf of the reference)."""

    def generator(self, z_dim: int, image_shape: tuple[int, int, int]) -> nn.Module:
        channels, height, width = image_shape
        _square(height, width)
        return DCGANGenerator(z_dim, channels, height, self.width)

    def discriminator(self, image_shape: tuple[int, int, int]) -> nn.Module:
        channels, height, width = image_shape
        _square(height, width)
        return DCGANDiscriminator(channels, height, self.width)


def _square(height: int, width: int) -> None:
    if height != width:
        raise ConfigError(f"the dcgan architecture needs square images, got {height}x{width}")
