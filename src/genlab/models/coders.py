"""Encoder and decoder pairs for the autoencoder family (autoencoder, denoising autoencoder, VAE).

``conv`` reuses the convolutional encoder and decoder of the EBGAN/BEGAN autoencoder discriminator (4x4 stride-2
convs down to 4x4, then a linear bottleneck; nearest upsampling + 3x3 convs back up), for square images whose side
is a power of two. ``mlp`` flattens any sample shape, so it also takes MNIST at its own 28x28 (the setting of the
published likelihood figures) and 2-D toy data. Decoders end linearly: each recipe decides what the output means
(a reconstruction, Bernoulli logits, a Gaussian mean).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import torch
from torch import nn

from genlab.hooks import Hook
from genlab.models.base import HookContext, Recipe, reconstruction_grid
from genlab.models.optim import OptimConfig, minimise
from genlab.nets.autoencoder import conv_decoder, conv_encoder
from genlab.nets.base import Shape, image_stages
from genlab.nets.blocks import Activation, mlp
from genlab.schema import Range, Section


class CoderSpec(Section):
    arch: Literal["conv", "mlp"] = "conv"
    width: Annotated[int, Range(ge=1, le=4096)] = 32
    """conv: encoder channels at half the image size, doubled at every halving; mlp: units per hidden layer."""
    depth: Annotated[int, Range(ge=1, le=16)] = 2
    """mlp only: hidden layers of the encoder and of the decoder."""
    activation: Activation = "leakyrelu"
    """mlp only: hidden nonlinearity (the IWAE paper's networks used tanh)."""

    def build(self, shape: Shape, code_out: int, code_in: int) -> tuple[nn.Module, nn.Module]:
        """An encoder mapping samples to ``code_out`` numbers and a decoder mapping ``code_in`` numbers to a sample
        shaped output."""
        if self.arch == "conv":
            channels, _, stages = image_stages(shape, "conv coder")
            return (
                conv_encoder(channels, stages, self.width, code_out),
                conv_decoder(channels, stages, self.width, code_in),
            )
        size = math.prod(shape)
        encoder = nn.Sequential(nn.Flatten(), mlp(size, code_out, self.width, self.depth, self.activation))
        decoder = nn.Sequential(mlp(code_in, size, self.width, self.depth, self.activation), nn.Unflatten(1, shape))
        return encoder, decoder


class EncoderDecoder(Recipe):
    """Base of the recipes made of one encoder and one decoder trained together by one optimiser (``cfg.optim``)."""

    def __init__(
        self,
        coder: CoderSpec,
        optim: OptimConfig,
        shape: Shape,
        device: torch.device,
        code_out: int,
        code_in: int,
        extra: dict[str, nn.Module] | None = None,
    ):
        """``extra`` networks (a hierarchical VAE's upper layers) are trained by the same optimiser and saved."""
        self.device = device
        self.shape = shape
        self.encoder, self.decoder = (net.to(device) for net in coder.build(shape, code_out, code_in))
        self.networks = {"encoder": self.encoder, "decoder": self.decoder}
        self.networks |= {name: net.to(device) for name, net in (extra or {}).items()}
        params = [p for net in self.networks.values() for p in net.parameters()]
        self.optimizers = {"model": optim.build(params, device)}

    def hooks(self, context: HookContext) -> list[Hook]:
        """Reconstruction grids of fixed real images (image data), besides the default hooks."""
        previews = [reconstruction_grid(self, context)] if context.images else []
        return previews + super().hooks(context)

    def update(self, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss``."""
        minimise(self.optimizers["model"], loss)
