"""Style-based generator (Karras et al. 2019, StyleGAN), with StyleGAN2's weight demodulation as an option.

A mapping network turns z into an intermediate latent w = f(z) (an MLP on the pixel-normalised z). The synthesis
network starts from a learned constant 4x4 input, not from z; every layer (a 3x3 convolution, two per resolution,
after a bilinear 2x upsampling at the first of each pair) gets its own copy of w as a *style*:

* ``adain`` (StyleGAN): a learned affine map of w gives a per-channel scale y_s and bias y_b, and after the
  convolution, noise and activation AdaIN(x, y) = y_s (x - μ(x)) / σ(x) + y_b, with μ and σ taken per sample and
  channel over the pixels (Huang & Belongie 2017);
* ``modulation`` (StyleGAN2): the affine map gives one scale s_i per input channel, which multiplies the conv
  weight, w'_oik = s_i w_oik, and demodulation divides each output channel's weights by their norm,
  w''_oik = w'_oik / sqrt(Σ_ik w'_oik² + ε), which keeps unit-variance inputs at unit variance without the
  normalisation that makes AdaIN's droplet artefacts.

After each convolution a noise map (one value per pixel, shared by the channels) is added with a learned scale per
channel, initialised to zero as in the paper, so noise only enters where training finds it useful: stochastic fine
detail. In training mode the noise is drawn afresh at every call; in eval mode each layer adds its stored constant
map (``noise_const``, saved with the weights, as StyleGAN2's ``noise_mode='const'``), so sampling is a function of
z alone and a seed gives the same samples; :meth:`StyleGenerator.resample_noise` draws new maps.

Style mixing regularisation happens inside the forward pass in training mode, so the GAN recipe and objectives need
no change: with probability ``mixing`` per batch a crossover layer k is drawn uniformly in 1..L-1 and the layers
from k on get the w of another latent, the batch's latents rolled by one (another draw of the same prior, which the
generator itself does not know). Every training-mode pass also updates a running mean of w (a buffer, so checkpoints,
EMA copies and exports keep it): w̄ <- β w̄ + (1 - β) mean_batch(w), starting at the first batch's mean.
The truncation trick then works in w: w' = w̄ + ψ (w - w̄) (:meth:`StyleGenerator.truncated`), which is what
``genlab sample --truncation ψ`` uses for this architecture instead of clamping z.

Weights use the equalised learning rate of the progressive GAN (:mod:`genlab.nets.progressive`); the paper's
learning-rate multiplier of 0.01 on the mapping network is left out.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from torch import nn

from genlab.errors import ConfigError
from genlab.nets.base import NETS
from genlab.nets.blocks import LEAKY_SLOPE
from genlab.nets.progressive import EqualizedConv2d, EqualizedLinear, EqualizedSpec, pixel_norm
from genlab.schema import Range, register_section

StyleMode = Literal["adain", "modulation"]
NOISE_SEED = 123
"""Seed of the constant noise maps drawn when a generator is built (eval-mode noise)."""


def adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """AdaIN(x, y) = y_s (x - μ(x)) / σ(x) + y_b: each sample's channel gets mean y_b and standard deviation y_s.

    ``x`` is (B, C, H, W), ``scale`` and ``bias`` are (B, C); μ and σ (population std, ε added to the variance)
    are taken over the H x W pixels of each sample and channel.
    """
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return scale[:, :, None, None] * (x - mean) / std + bias[:, :, None, None]


def demodulated(weight: torch.Tensor, style: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per-sample conv weights (B, O, I, k, k) from ``weight`` (O, I, k, k) and input-channel scales ``style``
    (B, I): w'_oik = s_i w_oik, then w''_oik = w'_oik / sqrt(Σ_ik w'_oik² + ε), unit norm per output channel."""
    modulated = weight[None] * style[:, None, :, None, None]
    return modulated * torch.rsqrt(modulated.square().sum(dim=(2, 3, 4), keepdim=True) + eps)


def modulated_conv(x: torch.Tensor, weight: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """A 3x3 'same' convolution of each sample with its own demodulated weights, as one grouped convolution."""
    b, c_in, h, w = x.shape
    weights = demodulated(weight, style)  # (B, O, I, k, k)
    out = F.conv2d(x.reshape(1, b * c_in, h, w), weights.flatten(0, 1), padding=weight.shape[-1] // 2, groups=b)
    return out.view(b, -1, h, w)


class MappingNetwork(nn.Module):
    """f: z -> w, ``depth`` equalised linear layers with LeakyReLU on the pixel-normalised z (unit mean square)."""

    def __init__(self, z_dim: int, w_dim: int, width: int, depth: int):
        super().__init__()
        sizes = [z_dim, *[width] * (depth - 1), w_dim]
        layers: list[nn.Module] = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [EqualizedLinear(n_in, n_out), nn.LeakyReLU(LEAKY_SLOPE)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(pixel_norm(z))


class StyleLayer(nn.Module):
    """One styled 3x3 convolution: (upsample), conv (modulated, or plain then AdaIN), noise, bias, LeakyReLU."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, size: int, mode: StyleMode, upsample: bool, noise: bool):
        super().__init__()
        self.mode, self.upsample = mode, upsample
        self.conv = EqualizedConv2d(c_in, c_out, 3, padding=1)
        self.affine = EqualizedLinear(w_dim, c_in if mode == "modulation" else 2 * c_out, gain=1.0)
        with torch.no_grad():  # styles start at the identity: scales 1, AdaIN biases 0
            self.affine.bias.copy_(torch.ones(c_in) if mode == "modulation" else torch.ones(2 * c_out))
            if mode == "adain":
                self.affine.bias[c_out:] = 0.0
        self.noise_scale = nn.Parameter(torch.zeros(c_out)) if noise else None
        self.register_buffer("noise_const", torch.zeros(1, 1, size, size))
        self.act = nn.LeakyReLU(LEAKY_SLOPE)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        style = self.affine(w)
        weight = self.conv.weight * self.conv.scale
        x = modulated_conv(x, weight, style) if self.mode == "modulation" else F.conv2d(x, weight, padding=1)
        if self.noise_scale is not None:
            noise = torch.randn_like(x[:, :1]) if self.training else self.noise_const
            x = x + self.noise_scale[None, :, None, None] * noise
        x = self.act(x + self.conv.bias[None, :, None, None])
        return adain(x, *style.chunk(2, dim=1)) if self.mode == "adain" else x


class StyleGenerator(nn.Module):
    """Mapping network, learned constant, 2 styled layers per resolution from 4x4 up, a 1x1 conv to the image, tanh."""

    def __init__(self, z_dim: int, channels: int, stages: int, spec: Style):
        super().__init__()
        widths = [min(spec.width * 2 ** (stages - r), spec.max_width) for r in range(stages + 1)]  # 4x4 ... side
        self.mapping = MappingNetwork(z_dim, spec.w_dim, spec.mapping_width, spec.mapping_layers)
        self.const = nn.Parameter(torch.ones(1, widths[0], 4, 4))
        layers, c_in = [], widths[0]
        for r, c_out in enumerate(widths):
            for first in (True, False):
                layers.append(StyleLayer(c_in, c_out, spec.w_dim, 4 * 2**r, spec.styles, first and r > 0, spec.noise))
                c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.to_image = EqualizedConv2d(widths[-1], channels, 1, gain=1.0)
        self.mixing, self.w_mean_decay = spec.mixing, spec.w_mean_decay
        self.register_buffer("w_mean", torch.zeros(spec.w_dim))
        self.register_buffer("w_mean_updates", torch.zeros((), dtype=torch.long))
        self.psi: float | None = None
        self.resample_noise(torch.Generator().manual_seed(NOISE_SEED))

    @torch.no_grad()
    def resample_noise(self, generator: torch.Generator | None = None) -> None:
        """Draw new constant noise maps (eval-mode noise) from ``generator``: same z, new stochastic detail."""
        for layer in self.layers:
            noise = torch.randn(layer.noise_const.shape, generator=generator)
            layer.noise_const.copy_(noise.to(layer.noise_const.device))

    @contextlib.contextmanager
    def truncated(self, psi: float) -> Iterator[None]:
        """Within the block, eval-mode passes use w' = w̄ + ψ (w - w̄): ψ = 0 gives the image of the mean w for every
        z, ψ = 1 no truncation."""
        before, self.psi = self.psi, psi
        try:
            yield
        finally:
            self.psi = before

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.mapping(z)
        if not self.training:
            if self.psi is not None:
                w = self.w_mean.lerp(w, self.psi)
            return self.synthesis([w] * len(self.layers))
        self._track_mean(w)
        return self.synthesis(self.mixed(w, w.roll(1, dims=0), self._crossover()))

    def mixed(self, w1: torch.Tensor, w2: torch.Tensor, crossover: int) -> list[torch.Tensor]:
        """Per-layer styles: w1 for the layers below ``crossover``, w2 from it on (``crossover`` = L: no mixing)."""
        return [w1 if i < crossover else w2 for i in range(len(self.layers))]

    def synthesis(self, ws: list[torch.Tensor]) -> torch.Tensor:
        """The image for per-layer styles ``ws`` (one (B, w_dim) tensor per layer, coarse first)."""
        x = self.const.expand(ws[0].shape[0], -1, -1, -1)  # len() would fix the batch size in exports
        for layer, w in zip(self.layers, ws, strict=True):
            x = layer(x, w)
        return torch.tanh(self.to_image(x))

    def _crossover(self) -> int:
        """The mixing regularisation's crossover layer for this batch: L (none) with probability 1 - ``mixing``."""
        if self.mixing > 0 and torch.rand(()) < self.mixing:
            return int(torch.randint(1, len(self.layers), ()))
        return len(self.layers)

    @torch.no_grad()
    def _track_mean(self, w: torch.Tensor) -> None:
        decay = torch.where(self.w_mean_updates > 0, self.w_mean_decay, 0.0)  # no host sync on a GPU
        self.w_mean.copy_(w.detach().mean(dim=0).lerp(self.w_mean, decay.to(w.dtype)))
        self.w_mean_updates += 1


@register_section(NETS, key="arch")
class Style(EqualizedSpec):
    """StyleGAN's generator (a generator only: pair it with a discriminator of another arch, e.g. dcgan)."""

    arch: str = "style"
    w_dim: Annotated[int, Range(ge=1, le=4096)] = 128
    """Size of the intermediate latent w (the paper: 512)."""
    mapping_layers: Annotated[int, Range(ge=1, le=16)] = 4
    """Depth of the mapping network z -> w (the paper: 8)."""
    mapping_width: Annotated[int, Range(ge=1, le=4096)] = 128
    """Width of the mapping network's hidden layers."""
    width: Annotated[int, Range(ge=1, le=4096)] = 32
    """Channels at the full resolution; doubled at every halving towards 4x4, up to ``max_width``."""
    max_width: Annotated[int, Range(ge=1, le=4096)] = 256
    """Most channels of any resolution."""
    styles: StyleMode = "adain"
    """How w steers a layer: adain (StyleGAN) or modulation (StyleGAN2's weight modulation and demodulation)."""
    noise: bool = True
    """Per-layer noise inputs with learned per-channel scales (initialised to zero)."""
    mixing: Annotated[float, Range(ge=0.0, le=1.0)] = 0.9
    """Probability per training batch of style mixing at a random crossover layer (the paper: 0.9; 0 is off)."""
    w_mean_decay: Annotated[float, Range(ge=0.0, lt=1.0)] = 0.995
    """β of the running mean of w that truncation moves towards (StyleGAN2: 0.995)."""

    def conv_generator(self, z_dim: int, channels: int, stages: int) -> nn.Module:
        return StyleGenerator(z_dim, channels, stages, self)

    def conv_discriminator(self, channels: int, stages: int) -> nn.Module:
        raise ConfigError(
            "the style architecture has no discriminator (StyleGAN's ideas are all in the generator); "
            "set model.discriminator.arch to dcgan or resnet"
        )
