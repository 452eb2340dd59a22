"""Layer recipes shared by several architectures, so each choice (activation, up- and downsampling) is made once."""

from __future__ import annotations

from typing import Literal

from torch import nn

Activation = Literal["relu", "leakyrelu", "tanh"]
UpMode = Literal["transposed", "pixelshuffle", "nearest"]
DownMode = Literal["strided", "avgpool"]
Norm = Literal["none", "batch"]

LEAKY_SLOPE = 0.2
"""Negative slope of every LeakyReLU, the value DCGAN and most GANs since use."""


def activation(name: Activation, inplace: bool = False) -> nn.Module:
    """The named nonlinearity; ``inplace`` only where the input is not needed again (never before a shortcut)."""
    if name == "leakyrelu":
        return nn.LeakyReLU(LEAKY_SLOPE, inplace=inplace)
    if name == "tanh":
        return nn.Tanh()
    return nn.ReLU(inplace=inplace)


def up(c_in: int, c_out: int, mode: UpMode, bias: bool = True) -> list[nn.Module]:
    """Layers that double the resolution and map ``c_in`` to ``c_out`` channels.

    ``transposed`` is DCGAN's 4x4 stride-2 transposed conv; ``pixelshuffle`` (a 3x3 conv to 4x the channels, then
    rearranging them into a 2x larger map) and ``nearest`` (nearest upsampling, then a 3x3 conv) avoid the
    checkerboard artefacts of transposed convs whose kernel size the stride does not divide evenly.
    """
    if mode == "pixelshuffle":
        return [nn.Conv2d(c_in, 4 * c_out, 3, 1, 1, bias=bias), nn.PixelShuffle(2)]
    if mode == "nearest":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]
    return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]


def down(c_in: int, c_out: int, mode: DownMode, bias: bool = True) -> list[nn.Module]:
    """Layers that halve the resolution: DCGAN's 4x4 stride-2 conv, or a 3x3 conv followed by 2x2 average pooling."""
    if mode == "avgpool":
        return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias), nn.AvgPool2d(2)]
    return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias)]


def mlp(
    n_in: int, n_out: int, width: int, depth: int, act: Activation, norm: Norm = "none", norm_first: bool = True
) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units (linear, optional BatchNorm, activation), then a linear output.

    ``norm_first=False`` leaves the first hidden layer unnormalised, as DCGAN does for the discriminator's input.
    Linear layers followed by BatchNorm have no bias: BatchNorm's shift would cancel it.
    """
    layers: list[nn.Module] = []
    for i in range(depth):
        normed = norm == "batch" and (norm_first or i > 0)
        layers.append(nn.Linear(n_in if i == 0 else width, width, bias=not normed))
        if normed:
            layers.append(nn.BatchNorm1d(width))
        layers.append(activation(act, inplace=True))
    layers.append(nn.Linear(width if depth else n_in, n_out))
    return nn.Sequential(*layers)
