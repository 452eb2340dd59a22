"""Image-to-image networks of CycleGAN (Zhu et al. 2017), scaled to small images.

The translator is Johnson et al.'s ResNet generator: a 7x7 convolution, two stride-2 downsamplings, residual
blocks at a quarter of the size, two upsamplings and a 7x7 convolution to the output channels with tanh, all with
instance normalisation (each image normalised on its own, so a translation does not depend on the batch). The
PatchGAN discriminator is fully convolutional and gives one score per overlapping patch, judging local texture
and style rather than the whole layout, which the cycle-consistency loss already constrains.
"""

from __future__ import annotations

from typing import Annotated

from torch import nn

from genlab.errors import ConfigError
from genlab.schema import Range, Section

LEAK = 0.2


def _norm_relu(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels), nn.ReLU(inplace=True)]


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            *_norm_relu(channels),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x):
        return x + self.body(x)


class TranslatorSpec(Section):
    width: Annotated[int, Range(ge=1, le=1024)] = 32
    """Channels of the first convolution; doubled at each of the two downsamplings (CycleGAN: 64)."""
    blocks: Annotated[int, Range(ge=0, le=32)] = 3
    """Residual blocks at a quarter of the image size (CycleGAN: 6 for 128x128, 9 for 256x256)."""

    def build(self, in_channels: int, out_channels: int, size: int) -> nn.Module:
        if size % 4 or size < 8:
            raise ConfigError(
                f"the translator halves the images twice: their side must be a multiple of 4 from 8 up, got {size}"
            )
        w = self.width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, w, 7), *_norm_relu(w)]
        layers += [nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), *_norm_relu(2 * w)]
        layers += [nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), *_norm_relu(4 * w)]
        layers += [ResidualBlock(4 * w) for _ in range(self.blocks)]
        layers += [nn.ConvTranspose2d(4 * w, 2 * w, 3, stride=2, padding=1, output_padding=1), *_norm_relu(2 * w)]
        layers += [nn.ConvTranspose2d(2 * w, w, 3, stride=2, padding=1, output_padding=1), *_norm_relu(w)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh()]
        return nn.Sequential(*layers)


class PatchSpec(Section):
    width: Annotated[int, Range(ge=1, le=1024)] = 32
    """Channels of the first convolution; doubled per downsampling up to 8x (CycleGAN: 64)."""
    layers: Annotated[int, Range(ge=1, le=6)] = 2
    """Stride-2 convolutions (CycleGAN: 3, 70x70 patches at 256x256); each adds to the patch a score sees."""

    def build(self, in_channels: int, size: int) -> nn.Module:
        side = size // 2**self.layers - 2  # two 4x4 stride-1 convolutions with padding 1 end the network
        if side < 1:
            raise ConfigError(
                f"a PatchGAN discriminator with {self.layers} downsamplings leaves no patch of a {size}x{size} "
                "image; lower layers (or use larger images)"
            )
        w = self.width
        layers: list[nn.Module] = [nn.Conv2d(in_channels, w, 4, stride=2, padding=1), nn.LeakyReLU(LEAK, inplace=True)]
        channels = w
        for i in range(1, self.layers + 1):
            wider = w * min(2**i, 8)
            stride = 2 if i < self.layers else 1
            layers += [
                nn.Conv2d(channels, wider, 4, stride=stride, padding=1),
                nn.InstanceNorm2d(wider),
                nn.LeakyReLU(LEAK, inplace=True),
            ]
            channels = wider
        layers.append(nn.Conv2d(channels, 1, 4, padding=1))
        return nn.Sequential(*layers)
