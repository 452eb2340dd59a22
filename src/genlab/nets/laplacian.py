"""The generators of the Laplacian-pyramid GAN (Denton et al. 2015).

Level 0 draws a small image Ĩ_{K-1} from z with any registered architecture. Every finer level, at pyramid index
k (0: full size), is a conditional generator G_k that draws the band-pass image h̃_k = G_k(u(Ĩ_{k+1}), noise_k) of
its resolution from the enlarged coarser image and planes of noise (the paper's extra "colour plane"), and the
image grows as Ĩ_k = u(Ĩ_{k+1}) + h̃_k (Denton et al., section 3.1): sampling runs the pyramid coarse to fine.

All randomness of a sample lives in one latent vector, the coarse z followed by every level's noise planes
flattened, so a latent seed fixes the whole pyramid and the latent tools (interpolation, truncation) act on it.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from genlab.nets.pyramid import up
from genlab.schema import Range, Section

Shape3 = tuple[int, int, int]
"""(channels, height, width) of one level's noise planes."""


class ResidualGenerator(nn.Module):
    """3x3 conv + BatchNorm + ReLU layers on [u(coarse), noise], then a linear 3x3 conv to the band-pass image.

    The output conv starts at zero, so an untrained level passes the enlarged coarser image through unchanged.
    """

    def __init__(self, channels: int, noise_channels: int, width: int, depth: int):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels + noise_channels
        for _ in range(depth):
            layers += [nn.Conv2d(c_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            c_in = width
        last = nn.Conv2d(c_in, channels, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)

    def forward(self, coarse: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([coarse, noise], dim=1))


class ResidualSpec(Section):
    """The conditional generators of the finer levels (all of them alike)."""

    width: Annotated[int, Range(ge=1, le=1024)] = 64
    """Channels of every hidden conv (the paper's CIFAR-10 levels: 128)."""
    depth: Annotated[int, Range(ge=1, le=16)] = 3
    """Hidden 3x3 conv layers before the output conv."""
    noise_channels: Annotated[int, Range(ge=1, le=16)] = 1
    """Planes of Gaussian noise beside the enlarged coarse image (the paper: one)."""

    def build(self, channels: int) -> ResidualGenerator:
        return ResidualGenerator(channels, self.noise_channels, self.width, self.depth)


class LaplacianGenerator(nn.Module):
    """The whole pyramid as one generator: latent vectors (B, z_dim) to full-resolution images in [-1, 1]."""

    def __init__(self, coarse: nn.Module, residuals: list[ResidualGenerator], coarse_z: int, noise: list[Shape3]):
        super().__init__()
        self.levels = nn.ModuleList([coarse, *residuals])
        self.coarse_z = coarse_z
        self.noise = noise
        """(channels, side, side) of each finer level's noise, coarse to fine."""

    @property
    def z_dim(self) -> int:
        return self.coarse_z + sum(c * h * w for c, h, w in self.noise)

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The coarse generator's latents and each finer level's noise planes of latent vectors ``z``."""
        sizes = [self.coarse_z] + [c * h * w for c, h, w in self.noise]
        coarse, *flat = z.split(sizes, dim=1)
        return coarse, [part.reshape(len(z), *shape) for part, shape in zip(flat, self.noise, strict=True)]

    def pyramid(self, z: torch.Tensor) -> list[torch.Tensor]:
        """The sampled images Ĩ_{K-1}, ..., Ĩ_0 of every level, coarse to fine; each clamped to [-1, 1], where
        every level of a real image's Gaussian pyramid lies (blur and enlargement average pixels)."""
        coarse_z, noise = self.split(z)
        images = [self.levels[0](coarse_z)]
        for level, planes in zip(self.levels[1:], noise, strict=True):
            enlarged = up(images[-1])
            images.append((enlarged + level(enlarged, planes)).clamp(-1, 1))
        return images

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.pyramid(z)[-1]
