"""Auto-encoder discriminators for energy-based GANs: the score of a sample is how badly D reconstructs it.

EBGAN (Zhao et al. 2016) uses the mean squared reconstruction error as the energy, BEGAN (Berthelot et al. 2017)
the mean absolute error; ``distance`` picks one. Both are means over a sample's elements, so the energy's scale does
not depend on the image size. The module also offers ``encode`` (EBGAN's pulling-away term acts on the codes of a
fake batch) and ``reconstruct``.

Images pass through a conv encoder (4x4 stride-2 convs down to 4x4, channels doubling from ``width`` as in DCGAN's
discriminator) and a mirrored decoder (nearest upsampling + 3x3 conv, which does not add checkerboard artefacts to
the reconstructions, as in BEGAN), both around a linear bottleneck of ``code_dim`` units; vectors pass through MLPs
with two hidden layers. There is no BatchNorm, so a sample's energy never depends on the rest of its batch, and the
decoder's output is linear, so reconstructions are not squashed and their gradients never saturate. Weights keep
PyTorch's default initialisation.

This architecture only builds discriminators: for the generator, choose another one (EBGAN and BEGAN used
DCGAN-like generators), so asking it for one is a config error.
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Literal

import torch
from torch import nn

from genlab.nets.base import NETS, NetSpec, Shape, image_stages, is_image
from genlab.nets.blocks import activation, down, mlp, up
from genlab.schema import Range, register_section

Distance = Literal["mse", "l1"]
VECTOR_DEPTH = 2
"""Hidden layers of the encoder's and of the decoder's MLP for vector data."""


def conv_encoder(channels: int, stages: int, width: int, code_dim: int) -> nn.Sequential:
    widths = [width * 2**i for i in range(stages)]  # channels at size/2, ..., 4x4
    layers: list[nn.Module] = []
    for c_in, c_out in itertools.pairwise([channels, *widths]):
        layers += [*down(c_in, c_out, "strided"), activation("leakyrelu", inplace=True)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(widths[-1] * 4 * 4, code_dim))


def conv_decoder(channels: int, stages: int, width: int, code_dim: int) -> nn.Sequential:
    widths = [width * 2**i for i in reversed(range(stages))]  # channels at 4x4, ..., size/2
    layers: list[nn.Module] = [nn.Linear(code_dim, widths[0] * 4 * 4), nn.Unflatten(1, (widths[0], 4, 4))]
    for c_in, c_out in itertools.pairwise(widths):
        layers += [activation("leakyrelu", inplace=True), *up(c_in, c_out, "nearest")]
    return nn.Sequential(*layers, activation("leakyrelu", inplace=True), *up(widths[-1], channels, "nearest"))


class AutoEncoderDiscriminator(nn.Module):
    """Maps samples (B, *shape) to their reconstruction energy, shape (B,), lower for samples D deems real."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, distance: Distance = "mse"):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.distance = distance

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Bottleneck codes, shape (B, code_dim)."""
        return self.encoder(x)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        error = self.reconstruct(x) - x
        error = error.square() if self.distance == "mse" else error.abs()
        return error.flatten(1).mean(1)


@register_section(NETS, key="arch")
class AutoEncoder(NetSpec):
    arch: str = "autoencoder"
    outputs = "energy"
    distance: Distance = "mse"
    """Reconstruction energy per sample: mean squared error (EBGAN) or mean absolute error (BEGAN)."""
    width: Annotated[int, Range(ge=1, le=4096)] = 64
    """Images: encoder channels at half the image size, doubled at every halving. Vectors: hidden units."""
    code_dim: Annotated[int, Range(ge=1, le=65536)] = 64
    """Units of the bottleneck between encoder and decoder."""

    def build_discriminator(self, shape: Shape) -> nn.Module:
        if is_image(shape):
            channels, _, stages = image_stages(shape, self.arch)
            encoder = conv_encoder(channels, stages, self.width, self.code_dim)
            decoder = conv_decoder(channels, stages, self.width, self.code_dim)
        else:
            size = math.prod(shape)
            encoder = mlp(size, self.code_dim, self.width, VECTOR_DEPTH, "leakyrelu")
            decoder = mlp(self.code_dim, size, self.width, VECTOR_DEPTH, "leakyrelu")
        return AutoEncoderDiscriminator(encoder, decoder, self.distance)
