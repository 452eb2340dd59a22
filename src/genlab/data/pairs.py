"""Paired images for image-to-image translation (pix2pix): an input image in front of every image on the channels.

``data.pair`` makes each sample a stack (input, target) of two images of the same size and channel count, so that
everything the data pipeline does to a sample (fitting, the random flips and crops of the sampler) happens to both
halves alike and the pair stays aligned; the pix2pix recipe splits the stack again. The input is either derived
from the image itself (the targets are the data set's images) or read from a second array of an npz file:

* ``edges``: the digit's outline, the morphological gradient max_3x3(x) - min_3x3(x) (a stroke's two borders);
* ``blur``: a Gaussian blur, sigma = :data:`BLUR_SIGMA` px, on a 5x5 support with replicated borders;
* ``mask``: the bottom half hidden, set to mid-grey (0.5 in [0, 1], 0 in [-1, 1]): inpainting;
* ``inputs``: the npz file's array ``inputs``, aligned image by image with its ``images`` (the targets).

Images here are in [0, 1] (N, C, H, W), as :func:`genlab.data.base.finish_images` holds them before [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F

Pair = Literal["none", "edges", "blur", "mask", "inputs"]
BLUR_SIGMA = 1.0
BLUR_RADIUS = 2
HIDDEN = 0.5
"""What the hidden half of a masked input holds: mid-grey, neither ink nor background."""


def outline(images: torch.Tensor) -> torch.Tensor:
    """The morphological gradient: 3x3 maximum minus 3x3 minimum (1 px either side of every stroke border)."""
    grown = F.max_pool2d(images, 3, stride=1, padding=1)
    shrunk = -F.max_pool2d(-images, 3, stride=1, padding=1)
    return grown - shrunk


def gaussian_kernel(sigma: float = BLUR_SIGMA, radius: int = BLUR_RADIUS) -> torch.Tensor:
    """The normalised 1-D Gaussian exp(-t^2 / 2 sigma^2) on t = -radius..radius."""
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    weights = torch.exp(-(t**2) / (2 * sigma**2))
    return weights / weights.sum()


def blur(images: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of every channel (rows, then columns), borders replicated."""
    kernel = gaussian_kernel().to(images)
    channels = images.shape[1]
    padded = F.pad(images, (BLUR_RADIUS,) * 4, mode="replicate")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def mask(images: torch.Tensor) -> torch.Tensor:
    """The images with their bottom half (rows H // 2 and below) set to :data:`HIDDEN`."""
    hidden = images.clone()
    hidden[..., images.shape[-2] // 2 :, :] = HIDDEN
    return hidden


DERIVED: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"edges": outline, "blur": blur, "mask": mask}
"""The inputs ``data.pair`` derives from each target."""


def stack_pair(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(input, target) on the channel axis; a grey half beside a colour one is repeated to three channels, so the
    two halves always have the same channel count and the stack splits in the middle."""
    channels = max(inputs.shape[1], targets.shape[1])
    inputs, targets = (x.expand(-1, channels, -1, -1) for x in (inputs, targets))
    return torch.cat([inputs, targets], dim=1)


def split_pair(stack: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The (inputs, targets) halves of a batch of stacked pairs (N, 2C, H, W)."""
    inputs, targets = stack.chunk(2, dim=1)
    return inputs, targets
