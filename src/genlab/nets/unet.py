"""The U-Net generator of pix2pix (Isola et al. 2017; Ronneberger et al. 2015), scaled to small images.

An encoder of ``depth`` stride-2 4x4 convolutions (LeakyReLU 0.2) halves the image down to side / 2^depth, and a
decoder of as many stride-2 4x4 transposed convolutions (ReLU) doubles it back. Each decoder layer but the
innermost also takes the encoder's features of its own size, concatenated on the channels: the skip connections
hand the input's fine detail (edges, stroke positions) straight to the output, where a plain encoder-decoder would
have to squeeze it through the bottleneck (the paper's Fig. 5 ablation; ``skips: false`` is that encoder-decoder).
Instance normalisation sits between (not after the first layer, nor at the bottleneck, whose map may be 1x1).

pix2pix has no latent z: the generator learned to ignore one. Its noise is dropout (p = 0.5) in the innermost
decoder layers during training; translation runs in eval mode, so it gives the expected (deterministic) output.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.nets.translation import LEAK
from genlab.schema import Range, Section


class UNet(nn.Module):
    def __init__(self, spec: UNetSpec, in_channels: int, out_channels: int):
        super().__init__()
        depth, self.skips = spec.depth, spec.skips
        widths = [spec.width * min(2**i, 8) for i in range(depth)]
        self.downs = nn.ModuleList()
        channels = in_channels
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [nn.LeakyReLU(LEAK)] if i else []
            layers.append(nn.Conv2d(channels, width, 4, stride=2, padding=1))
            if 0 < i < depth - 1:
                layers.append(nn.InstanceNorm2d(width))
            self.downs.append(nn.Sequential(*layers))
            channels = width
        self.ups = nn.ModuleList()
        for i in reversed(range(depth)):
            # From below: the bottleneck's features, or the decoder layer underneath (as wide as encoder level i).
            incoming = widths[i] * (2 if self.skips and i < depth - 1 else 1)
            outgoing = widths[i - 1] if i else out_channels
            layers = [nn.ReLU(), nn.ConvTranspose2d(incoming, outgoing, 4, stride=2, padding=1)]
            if i:
                layers.append(nn.InstanceNorm2d(outgoing))
                if depth - 1 - i < spec.dropout_layers and spec.dropout:
                    layers.append(nn.Dropout(spec.dropout))
            else:
                layers.append(nn.Tanh())
            self.ups.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = []
        for down in self.downs:
            x = down(x)
            features.append(x)
        x = features.pop()
        for k, up in enumerate(self.ups):
            if k and self.skips:
                x = torch.cat([x, features.pop()], dim=1)
            x = up(x)
        return x


class UNetSpec(Section):
    width: Annotated[int, Range(ge=1, le=1024)] = 32
    """Channels of the first convolution; doubled per level up to 8x (pix2pix: 64)."""
    depth: Annotated[int, Range(ge=1, le=10)] = 4
    """Levels: the image side is halved ``depth`` times, so it must be a multiple of 2^depth (pix2pix: 8 at 256 px,
    down to 1x1; 4 takes 16 px to 1x1)."""
    skips: bool = True
    """Skip connections from each encoder level to the decoder level of its size (false: a plain encoder-decoder,
    the paper's ablation)."""
    dropout: Annotated[float, Range(ge=0, lt=1)] = 0.5
    """Dropout probability in the innermost decoder layers while training: the generator's noise (pix2pix: 0.5)."""
    dropout_layers: Annotated[int, Range(ge=0, le=10)] = 3
    """How many of the innermost decoder layers have dropout (pix2pix: 3); the outermost one never has."""

    def build(self, in_channels: int, out_channels: int, size: int) -> UNet:
        if size % 2**self.depth:
            raise ConfigError(
                f"a U-Net of depth {self.depth} halves the image {self.depth} times: its side must be a multiple of "
                f"{2**self.depth}, got {size}; lower model.generator.depth or change data.size"
            )
        return UNet(self, in_channels, out_channels)
