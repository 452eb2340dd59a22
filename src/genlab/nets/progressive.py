"""Progressive growing of GANs (Karras et al. 2018): networks that work at 4x4 first and gain one 2x
resolution block at a time.

Both networks hold every block of the final resolution from the start, plus one 1x1 "to image" (G) or "from image"
(D) convolution per resolution; :meth:`ProgressiveNet.set_phase` chooses how many blocks take part (``level``: 0
is 4x4, each level doubles the side) and how far the newest one is faded in (``alpha``). While a block fades in,
its output is blended with the previous resolution's, upsampled (G) or its input is blended with a downsampled
copy fed to the previous resolution's path (D), so at ``alpha = 0`` the grown networks compute exactly what the
smaller ones did and growth causes no shock.

Three further ideas of the paper are here: every weight is used at the He-initialisation scale at run time
(*equalised learning rate*: stored weights are N(0, 1), so Adam's step sizes are the same for every layer);
G normalises its feature vector at every pixel to unit mean square (*pixel norm*) instead of BatchNorm; and D
appends, near its end, one feature map holding the average standard deviation of its features across groups of
samples (*minibatch standard deviation*), which lets it see a batch with too little variety.
"""

from __future__ import annotations

import math
from typing import Annotated

import torch
import torch.nn.functional as F
from pydantic import model_validator
from torch import nn

from genlab.nets.base import NETS, ConvNetSpec
from genlab.schema import Range, register_section

LEAK = 0.2


class EqualizedConv2d(nn.Module):
    """A convolution whose N(0, 1) weights are multiplied by the He constant gain / sqrt(fan-in) at every call."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, padding: int = 0, gain: float = 2**0.5):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = gain / math.sqrt(in_channels * kernel * kernel)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """A linear layer with the run-time He scaling of :class:`EqualizedConv2d`."""

    def __init__(self, in_features: int, out_features: int, gain: float = 2**0.5):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each pixel's (or vector's) features divided by their root mean square over the channel axis."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: torch.Tensor, group_size: int) -> torch.Tensor:
    """``x`` with one more channel: for each group of ``group_size`` samples, the standard deviation (over the
    group) of every feature at every position, averaged into a single number, broadcast as a constant map to the
    group's samples. As in the paper's code, a batch of n samples forms the groups {i, i + n/g, i + 2n/g, ...}; a
    batch that ``group_size`` does not divide uses its largest divisor below ``group_size`` instead."""
    n, c, h, w = x.shape
    group = max(d for d in range(1, min(group_size, n) + 1) if n % d == 0)
    grouped = x.reshape(group, n // group, c, h, w)
    std = (grouped.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (n / group, c, h, w)
    per_group = std.mean(dim=(1, 2, 3))  # (n / group,)
    stat = per_group.repeat(group).view(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, stat.to(x.dtype)], dim=1)


def conv3(in_channels: int, out_channels: int) -> nn.Module:
    return EqualizedConv2d(in_channels, out_channels, 3, padding=1)


class ProgressiveNet(nn.Module):
    """What both progressive networks share: the current level and fade-in weight."""

    def __init__(self, levels: int):
        super().__init__()
        self.levels = levels
        self.level, self.alpha = levels - 1, 1.0

    def set_phase(self, level: int, alpha: float) -> None:
        if not 0 <= level < self.levels or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"level must be in 0..{self.levels - 1} and alpha in [0, 1]; got {level}, {alpha}")
        self.level, self.alpha = level, float(alpha)

    def get_extra_state(self) -> dict[str, float]:
        """The phase travels with the weights, so a checkpoint taken mid-growth samples at its own resolution."""
        return {"level": self.level, "alpha": self.alpha}

    def set_extra_state(self, state: dict[str, float]) -> None:
        self.set_phase(int(state["level"]), float(state["alpha"]))

    @property
    def size(self) -> int:
        """Side of the images at the current level."""
        return 4 * 2**self.level


class ProgressiveGenerator(ProgressiveNet):
    def __init__(self, z_dim: int, channels: int, widths: list[int]):
        super().__init__(len(widths))
        self.input = EqualizedLinear(z_dim, widths[0] * 16, gain=2**0.5 / 4)  # the paper's 4x4 "transposed conv"
        self.stem = conv3(widths[0], widths[0])
        self.blocks = nn.ModuleList(
            nn.ModuleList([conv3(widths[i - 1], widths[i]), conv3(widths[i], widths[i])]) for i in range(1, len(widths))
        )
        self.to_image = nn.ModuleList(EqualizedConv2d(width, channels, 1, gain=1.0) for width in widths)

    @staticmethod
    def _act(x: torch.Tensor) -> torch.Tensor:
        return pixel_norm(F.leaky_relu(x, LEAK))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self._act(self.input(pixel_norm(z)).view(len(z), -1, 4, 4))
        x = self._act(self.stem(x))
        previous = x
        for block in self.blocks[: self.level]:
            previous = x
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            for conv in block:
                x = self._act(conv(x))
        image = self.to_image[self.level](x)
        if self.alpha < 1.0 and self.level > 0:
            faded = F.interpolate(self.to_image[self.level - 1](previous), scale_factor=2, mode="nearest")
            image = torch.lerp(faded, image, self.alpha)
        # tanh after the blend (the paper's output is linear): samples stay in [-1, 1] like every genlab generator's,
        # and since it acts pixel by pixel it commutes with the nearest-neighbour enlargement of the fade.
        return torch.tanh(image)


class ProgressiveDiscriminator(ProgressiveNet):
    def __init__(self, channels: int, widths: list[int], group_size: int):
        super().__init__(len(widths))
        self.group_size = group_size
        self.from_image = nn.ModuleList(EqualizedConv2d(channels, width, 1) for width in widths)
        # blocks[i - 1] takes level i's features down to level i - 1's resolution and width.
        self.blocks = nn.ModuleList(
            nn.ModuleList([conv3(widths[i], widths[i]), conv3(widths[i], widths[i - 1])]) for i in range(1, len(widths))
        )
        self.final_conv = conv3(widths[0] + 1, widths[0])
        self.final_dense = EqualizedConv2d(widths[0], widths[0], 4)  # 4x4 -> 1x1
        self.output = EqualizedLinear(widths[0], 1, gain=1.0)

    def _block(self, level: int, x: torch.Tensor) -> torch.Tensor:
        for conv in self.blocks[level - 1]:
            x = F.leaky_relu(conv(x), LEAK)
        return F.avg_pool2d(x, 2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.from_image[self.level](images), LEAK)
        if self.level > 0:
            x = self._block(self.level, x)
            if self.alpha < 1.0:
                skipped = F.leaky_relu(self.from_image[self.level - 1](F.avg_pool2d(images, 2)), LEAK)
                x = torch.lerp(skipped, x, self.alpha)
        for level in range(self.level - 1, 0, -1):
            x = self._block(level, x)
        x = F.leaky_relu(self.final_conv(minibatch_stddev(x, self.group_size)), LEAK)
        x = F.leaky_relu(self.final_dense(x), LEAK).flatten(1)
        return self.output(x).squeeze(1)


class EqualizedSpec(ConvNetSpec):
    """An architecture built from the equalised layers above, which spectral norm (it wraps ``nn.Conv2d`` and
    ``nn.Linear`` weights) would silently miss: the option is refused instead."""

    @model_validator(mode="after")
    def _no_spectral_norm(self) -> EqualizedSpec:
        if self.spectral_norm:
            raise ValueError(
                f"spectral_norm is not available for the {self.arch} architecture: its equalised learning rate "
                "already rescales every weight at run time; leave spectral_norm false"
            )
        return self


@register_section(NETS, key="arch")
class Progressive(EqualizedSpec):
    """The progressive GAN's networks (use them with ``recipe: progressive``, which grows them)."""

    arch: str = "progressive"
    width: Annotated[int, Range(ge=1, le=1024)] = 128
    """Channels at 4x4 to 16x16; halved at every doubling beyond (the paper: 512 up to 32x32)."""
    group_size: Annotated[int, Range(ge=1, le=256)] = 4
    """D only: samples per group of the minibatch standard deviation."""

    def widths(self, stages: int) -> list[int]:
        """Channels at each level, 4x4 first."""
        return [max(1, min(self.width, self.width * 16 // (4 * 2**level))) for level in range(stages + 1)]

    def conv_generator(self, z_dim: int, channels: int, stages: int) -> nn.Module:
        return ProgressiveGenerator(z_dim, channels, self.widths(stages))

    def conv_discriminator(self, channels: int, stages: int) -> nn.Module:
        return ProgressiveDiscriminator(channels, self.widths(stages), self.group_size)
