"""DCGAN (Radford et al. 2015): strided (transposed) convolutions, BatchNorm, ReLU in G, LeakyReLU in D, tanh out.

Both networks follow the DCGAN paper's architecture guidelines: no pooling and no fully connected hidden layers,
BatchNorm everywhere except G's output and D's input layers, weights drawn from N(0, 0.02). The channel count
doubles every time the resolution halves, starting from ``width`` channels at half the image size; the generator is
the mirror image of the discriminator, so for 64x64 images, width 64 and ``out_bias: false`` they are the networks
of the pytorch/examples DCGAN, layer for layer (``configs/dcgan-mnist64.yaml``).

The options ``upsample``, ``g_activation`` and ``downsample`` swap single layers for common variants (to study, for
example, checkerboard artefacts) while keeping the channel plan; their defaults are the reference layout.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

import torch
from torch import nn

from genlab.nets.base import NETS, ConvNetSpec
from genlab.nets.blocks import Activation, DownMode, UpMode, activation, down, up
from genlab.schema import Range, register_section


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


GNorm = Literal["batch", "none"]
DNorm = Literal["batch", "layer", "none"]


class DCGANGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        channels: int,
        stages: int,
        width: int,
        upsample: UpMode = "transposed",
        act: Activation = "relu",
        out_bias: bool = True,
        norm: GNorm = "batch",
    ):
        super().__init__()
        widths = [width * 2 ** (stages - 1 - i) for i in range(stages)]  # channels at 4x4, 8x8, ..., size/2
        batch_norm = norm == "batch"  # without it the convs keep their biases

        def normalised(c_out: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(c_out)] if batch_norm else []

        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=not batch_norm),  # 1x1 -> 4x4: a projection
            *normalised(widths[0]),
            activation(act, inplace=True),
        ]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [
                *up(c_in, c_out, upsample, bias=not batch_norm),
                *normalised(c_out),
                activation(act, inplace=True),
            ]
        layers += [*up(widths[-1], channels, upsample, bias=out_bias), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.z_dim = z_dim
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


def d_norm_layers(kind: DNorm, channels: int) -> list[nn.Module]:
    """D's normalisation after a hidden conv. Layer norm (one group over C, H, W per sample) suits per-sample
    gradient penalties, which BatchNorm's mixing of samples breaks (Gulrajani et al. 2017)."""
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    return [nn.GroupNorm(1, channels)] if kind == "layer" else []


class DCGANDiscriminator(nn.Module):
    def __init__(
        self,
        channels: int,
        stages: int,
        width: int,
        downsample: DownMode = "strided",
        norm: DNorm = "batch",
        out_bias: bool = True,
    ):
        super().__init__()
        widths = [width * 2**i for i in range(stages)]  # channels at size/2, ..., 4x4
        layers: list[nn.Module] = [
            *down(channels, widths[0], downsample, bias=out_bias),
            activation("leakyrelu", inplace=True),
        ]
        for c_in, c_out in itertools.pairwise(widths):
            norm_layers = d_norm_layers(norm, c_out)
            layers += [
                *down(c_in, c_out, downsample, bias=not norm_layers),  # a norm's shift would cancel the bias
                *norm_layers,
                activation("leakyrelu", inplace=True),
            ]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=out_bias)]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).view(images.shape[0])


@register_section(NETS, key="arch")
class DCGAN(ConvNetSpec):
    arch: str = "dcgan"
    width: Annotated[int, Range(ge=1, le=4096)] = 64
    """Channels at half the image size; doubled at every further halving (ngf / ndf of the reference)."""
    upsample: UpMode = "transposed"
    """How G doubles the resolution: 4x4 stride-2 transposed conv, 3x3 conv + pixel shuffle, or nearest + 3x3 conv."""
    g_activation: Activation = "relu"
    """G's hidden nonlinearity; LeakyReLU (slope 0.2) keeps gradients for negative pre-activations."""
    g_norm: GNorm = "batch"
    """G's normalisation after every hidden layer: batch (DCGAN) or none (the WGAN paper's test of robustness:
    the standard GAN needs it, WGAN trains without; the convs then keep their biases)."""
    downsample: DownMode = "strided"
    """How D halves the resolution: 4x4 stride-2 conv, or 3x3 conv + 2x2 average pooling."""
    d_norm: DNorm = "batch"
    """D's normalisation: batch (DCGAN), layer (for gradient penalties) or none."""
    out_bias: bool = True
    """Biases on the layers without BatchNorm after them: G's output conv, D's input and output convs. The
    pytorch/examples DCGAN has none there (false); its layer list is otherwise the same."""

    def conv_generator(self, z_dim: int, channels: int, stages: int) -> nn.Module:
        return DCGANGenerator(
            z_dim, channels, stages, self.width, self.upsample, self.g_activation, self.out_bias, self.g_norm
        )

    def conv_discriminator(self, channels: int, stages: int) -> nn.Module:
        return DCGANDiscriminator(channels, stages, self.width, self.downsample, self.d_norm, self.out_bias)
