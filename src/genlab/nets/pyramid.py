"""Gaussian and Laplacian image pyramids (Burt & Adelson 1983), as the Laplacian-pyramid GAN uses them.

With d(·) a fixed blur by the binomial kernel [1, 4, 6, 4, 1] / 16 (in both directions, edges replicated) followed
by keeping every second pixel, and u(·) bilinear enlargement by 2, an image I_0 has the Gaussian pyramid
I_{k+1} = d(I_k) and the Laplacian pyramid of band-pass images h_k = I_k − u(I_{k+1}), ending with the low-pass
image I_{K-1} (Denton et al. 2015, section 3). Reconstruction runs it backwards, I_k = u(I_{k+1}) + h_k, so
decomposition and reconstruction are exact whatever d and u are: only float rounding separates the two.

Lists here run coarse to fine (the order in which a pyramid is generated): entry 0 is the smallest image.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from genlab.errors import ConfigError

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def check_levels(side: int, levels: int) -> None:
    """Raise a ConfigError unless ``levels - 1`` halvings of ``side`` stay whole."""
    if side % 2 ** (levels - 1):
        raise ConfigError(
            f"a pyramid of {levels} levels halves the images {levels - 1} times, so their side must be a multiple "
            f"of {2 ** (levels - 1)}; got {side} (set data.size or model.levels)"
        )


def down(images: torch.Tensor) -> torch.Tensor:
    """d(I): the binomial blur of (N, C, H, W) images, then every second row and column: (N, C, H/2, W/2)."""
    channels = images.shape[1]
    kernel = torch.outer(_BINOMIAL, _BINOMIAL).to(images)[None, None].expand(channels, 1, 5, 5)
    padded = F.pad(images, (2, 2, 2, 2), mode="replicate")
    return F.conv2d(padded, kernel, stride=2, groups=channels)


def up(images: torch.Tensor) -> torch.Tensor:
    """u(I): bilinear enlargement by 2 (a constant image stays the same constant)."""
    return F.interpolate(images, scale_factor=2, mode="bilinear", align_corners=False)


def gaussian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[I_{K-1}, ..., I_1, I_0]: the images and ``levels - 1`` successive d(·), coarse to fine."""
    check_levels(images.shape[-1], levels)
    pyramid = [images]
    for _ in range(levels - 1):
        pyramid.append(down(pyramid[-1]))
    return pyramid[::-1]


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[I_{K-1}, h_{K-2}, ..., h_0]: the coarse low-pass image, then the band-pass images coarse to fine."""
    gaussian = gaussian_pyramid(images, levels)
    return [gaussian[0]] + [fine - up(coarse) for coarse, fine in itertools.pairwise(gaussian)]


def reconstruct(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """The image of a Laplacian pyramid (coarse first): I_k = u(I_{k+1}) + h_k from the coarse image up."""
    image = pyramid[0]
    for band in pyramid[1:]:
        image = up(image) + band
    return image
