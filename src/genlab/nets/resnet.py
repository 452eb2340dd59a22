"""Residual generator and discriminator in the style of the 32 px ResNets of WGAN-GP and SNGAN, for sides 8-256.

G: a linear map from z to a 4x4 map of ``width`` channels, one residual up-block per doubling of the resolution
(BN, activation, 2x nearest upsampling, 3x3 conv, BN, activation, 3x3 conv; the shortcut is a 1x1 conv, upsampled),
then BN, activation, a 3x3 conv to the image channels and tanh. D: one residual down-block per halving down to 4x4
(activation, 3x3 conv, activation, 3x3 conv, 2x2 average pooling; the shortcut is a 1x1 conv, average pooled), then
activation, a sum over positions and a linear map to one score.

D has no BatchNorm: a gradient penalty is defined per sample, which batch statistics would break, and spectral norm
(``spectral_norm: true``) is the normalisation these discriminators were designed for. D's first block skips the
leading activation, so a ReLU never discards the negative half of the input image. The channel count stays
``width`` at every resolution, as in the 32 px reference networks; large images may want a larger width.

Weights use Xavier (Glorot) uniform initialisation like the SNGAN reference code: gain sqrt(2) for the 3x3 convs of
the residual branches, which each follow a ReLU that halves the signal's second moment, and gain 1 for the linear
shortcut, projection and output layers. Both paths of a block then start at about the scale of its input, whereas
PyTorch's default would shrink the residual branch by a factor of about six in variance per conv.
"""

from __future__ import annotations

import math
from typing import Annotated, TypeVar

import torch
from torch import nn

from genlab.nets.base import NETS, ConvNetSpec
from genlab.nets.blocks import Activation, activation
from genlab.schema import Range, register_section

L = TypeVar("L", nn.Conv2d, nn.Linear)
RELU_GAIN = math.sqrt(2)


def xavier(layer: L, gain: float = 1.0) -> L:
    """Initialise a conv or linear layer in place (Xavier uniform weights, zero bias) and return it."""
    nn.init.xavier_uniform_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def conv3x3(c_in: int, c_out: int, bias: bool = True) -> nn.Conv2d:
    return xavier(nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias), RELU_GAIN)


class Residual(nn.Module):
    """Sum of a residual branch and a (learned, linear) shortcut; both change the resolution in the same way."""

    def __init__(self, residual: nn.Sequential, shortcut: nn.Sequential):
        super().__init__()
        self.residual = residual
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


def up_block(c_in: int, c_out: int, act: Activation) -> Residual:
    """Pre-activation block that doubles the resolution (convs followed by BatchNorm need no bias)."""
    residual = nn.Sequential(
        nn.BatchNorm2d(c_in),
        activation(act, inplace=True),  # acts on BatchNorm's output, not on the input the shortcut reads
        nn.Upsample(scale_factor=2, mode="nearest"),
        conv3x3(c_in, c_out, bias=False),
        nn.BatchNorm2d(c_out),
        activation(act, inplace=True),
        conv3x3(c_out, c_out),
    )
    # A 1x1 conv commutes with nearest upsampling; convolving first is 4x cheaper.
    shortcut = nn.Sequential(xavier(nn.Conv2d(c_in, c_out, 1)), nn.Upsample(scale_factor=2, mode="nearest"))
    return Residual(residual, shortcut)


def down_block(c_in: int, c_out: int, act: Activation, preactivate: bool = True) -> Residual:
    """Block that halves the resolution; ``preactivate=False`` for the first block, which reads the image."""
    residual = nn.Sequential(
        *([activation(act)] if preactivate else []),  # not in place: the shortcut still needs the input
        conv3x3(c_in, c_out),
        activation(act, inplace=True),
        conv3x3(c_out, c_out),
        nn.AvgPool2d(2),
    )
    shortcut = nn.Sequential(xavier(nn.Conv2d(c_in, c_out, 1)), nn.AvgPool2d(2))
    return Residual(residual, shortcut)


class ResNetGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, stages: int, width: int, act: Activation = "relu"):
        super().__init__()
        self.width = width
        self.project = xavier(nn.Linear(z_dim, 4 * 4 * width))
        self.blocks = nn.Sequential(*(up_block(width, width, act) for _ in range(stages)))
        self.out = nn.Sequential(
            nn.BatchNorm2d(width), activation(act, inplace=True), xavier(nn.Conv2d(width, channels, 3, 1, 1)), nn.Tanh()
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.project(z).view(z.shape[0], self.width, 4, 4)))


class ResNetDiscriminator(nn.Module):
    def __init__(self, channels: int, stages: int, width: int, act: Activation = "relu"):
        super().__init__()
        first = down_block(channels, width, act, preactivate=False)
        self.blocks = nn.Sequential(first, *(down_block(width, width, act) for _ in range(stages - 1)))
        self.act = activation(act)
        self.score = xavier(nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Summing (not averaging) over positions follows SNGAN; the score's scale then grows with the image area.
        features = self.act(self.blocks(x)).sum(dim=(2, 3))
        return self.score(features).view(x.shape[0])


@register_section(NETS, key="arch")
class ResNet(ConvNetSpec):
    arch: str = "resnet"
    width: Annotated[int, Range(ge=1, le=4096)] = 64
    """Channels of every residual block (128 in the 32 px SNGAN discriminator, 256 in its generator)."""
    activation: Activation = "relu"
    """Nonlinearity of both networks' blocks; LeakyReLU has slope 0.2."""

    def conv_generator(self, z_dim: int, channels: int, stages: int) -> nn.Module:
        return ResNetGenerator(z_dim, channels, stages, self.width, self.activation)

    def conv_discriminator(self, channels: int, stages: int) -> nn.Module:
        return ResNetDiscriminator(channels, stages, self.width, self.activation)
