"""Fully connected networks for any sample shape: the usual choice for 2-D toy data, and a baseline for images.

Inputs are flattened and the generator's output is reshaped to the sample shape. The generator's output layer is
linear for vectors, because toy data sets live at coordinates such as +-4 that tanh could not reach, and tanh for
images, which are scaled to [-1, 1].

Weights keep PyTorch's default initialisation (uniform in +-1/sqrt(fan_in)): these networks are shallow, so the
slight shrinking of the activations' scale from layer to layer that it causes does no harm, and no special scheme
is needed.
"""

from __future__ import annotations

import math
from typing import Annotated

from torch import nn

from genlab.nets.base import NETS, NetSpec, Shape, is_image
from genlab.nets.blocks import Activation, Norm, mlp
from genlab.schema import Range, register_section


@register_section(NETS, key="arch")
class MLP(NetSpec):
    arch: str = "mlp"
    width: Annotated[int, Range(ge=1, le=65536)] = 256
    """Units of every hidden layer."""
    depth: Annotated[int, Range(ge=0, le=64)] = 3
    """Number of hidden layers; 0 gives a linear map (a linear discriminator is a useful baseline)."""
    activation: Activation = "relu"
    """Hidden nonlinearity; LeakyReLU has slope 0.2."""
    norm: Norm = "none"
    """BatchNorm after every hidden linear layer, except the discriminator's first (as DCGAN advises)."""

    def build_generator(self, z_dim: int, shape: Shape) -> nn.Module:
        layers: list[nn.Module] = [mlp(z_dim, math.prod(shape), self.width, self.depth, self.activation, self.norm)]
        if is_image(shape):
            layers.append(nn.Tanh())
        layers.append(nn.Unflatten(1, shape))
        return nn.Sequential(*layers)

    def build_discriminator(self, shape: Shape) -> nn.Module:
        body = mlp(math.prod(shape), 1, self.width, self.depth, self.activation, self.norm, norm_first=False)
        return nn.Sequential(nn.Flatten(), body, nn.Flatten(0))
