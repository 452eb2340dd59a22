"""The autoencoder recipe: an encoder squeezes each sample through a bottleneck of ``code_dim`` numbers
and a decoder rebuilds it; with ``noise`` it becomes a denoising autoencoder that rebuilds the clean sample from a
corrupted one.

The bottleneck is what makes the codes useful: they are embeddings of unlabelled data (for plots, nearest
neighbours, or an encoder to fine-tune when labels are few). Corruption keeps a wide code from learning the
identity and teaches the decoder what clean data look like. Three kinds, applied to images in [-1, 1]:

* ``gaussian``: add N(0, s^2) noise, s = ``noise_level`` in units of the [0, 1] intensity range, then clip;
* ``salt-pepper``: each pixel, with probability ``noise_level``, becomes black or white (even odds);
* ``mask``: each pixel, with probability ``noise_level``, is set to black (intensity 0), i.e. dropped.

An autoencoder has no prior to sample from, so it writes reconstruction grids (input | output) instead of samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F

from genlab.data import Batch
from genlab.errors import ConfigError
from genlab.models.base import RECIPES, ModelConfig
from genlab.models.coders import CoderSpec, EncoderDecoder
from genlab.models.optim import OptimConfig
from genlab.models.perceptual import PerceptualConfig, PerceptualLossOption
from genlab.schema import Range, register_section

Noise = Literal["none", "gaussian", "salt-pepper", "mask"]


def corrupt(images: torch.Tensor, kind: Noise, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A corrupted copy of ``images`` (in [-1, 1]); ``generator`` (on their device) makes it reproducible."""
    if kind == "none" or level == 0:
        return images
    if kind == "gaussian":
        noise = torch.randn(images.shape, generator=generator, device=images.device, dtype=images.dtype)
        return (images + 2 * level * noise).clamp(-1, 1)  # level is in [0, 1] units; the data span 2
    hit = torch.rand(images.shape, generator=generator, device=images.device) < level
    if kind == "mask":
        return images.masked_fill(hit, -1.0)
    white = torch.rand(images.shape, generator=generator, device=images.device) < 0.5
    return torch.where(hit, torch.where(white, 1.0, -1.0).to(images.dtype), images)


def psnr(images: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of images against clean ones, both in [-1, 1] (peak-to-peak 2), per image."""
    mse = (images - clean).flatten(1).square().mean(1)
    return 10 * torch.log10(4 / mse.clamp_min(1e-12))


@register_section(RECIPES, key="recipe")
class AutoEncoderConfig(PerceptualLossOption, ModelConfig):
    recipe: str = "autoencoder"
    code_dim: Annotated[int, Range(ge=1, le=65536)] = 32
    """Size of the bottleneck."""
    coder: CoderSpec = CoderSpec()
    loss: Literal["mse", "bce", "perceptual"] = "mse"
    """Reconstruction loss: squared error on [-1, 1] intensities; cross-entropy with the intensities in [0, 1] as
    soft targets (images only; suits near-binary data such as MNIST); or the perceptual loss of ``perceptual``."""
    perceptual: PerceptualConfig = PerceptualConfig()
    """The feature network and layer of ``loss: perceptual``."""
    noise: Noise = "none"
    """Corruption of the input (a denoising autoencoder); the target is always the clean sample."""
    noise_level: Annotated[float, Range(ge=0, le=1)] = 0.3
    optim: OptimConfig = OptimConfig(lr=1e-3, betas=(0.9, 0.999))

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> AutoEncoder:
        return AutoEncoder(self, image_shape, device)


class AutoEncoder(EncoderDecoder):
    generative: ClassVar[bool] = False

    def __init__(self, cfg: AutoEncoderConfig, shape: tuple[int, ...], device: torch.device):
        super().__init__(cfg.coder, cfg.optim, shape, device, cfg.code_dim, cfg.code_dim)
        self.cfg = cfg
        self.images = len(shape) == 3
        if cfg.loss != "mse" and not self.images:
            raise ConfigError(f"model.loss '{cfg.loss}' needs image data; use loss: mse for vectors")
        self.perceptual = cfg.perceptual.build(device) if cfg.loss == "perceptual" else None

    def _output(self, raw: torch.Tensor) -> torch.Tensor:
        """Decoder output as a sample: images squashed into [-1, 1], vectors as they are."""
        return torch.tanh(raw) if self.images and self.cfg.loss != "bce" else raw

    def reconstruction_loss(self, raw: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        if self.cfg.loss == "bce":
            return F.binary_cross_entropy_with_logits(raw, (clean + 1) / 2)
        if self.perceptual is not None:
            return self.perceptual(self._output(raw), clean)
        return F.mse_loss(self._output(raw), clean)

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        clean = next_batch().images
        raw = self.decoder(self.encoder(corrupt(clean, self.cfg.noise, self.cfg.noise_level)))
        loss = self.reconstruction_loss(raw, clean)
        self.update(loss)
        return {"loss/reconstruction": loss.detach()}

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images.to(self.device))  # no BatchNorm or dropout in the coders: no eval switch needed

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decoder output for codes ``z`` as samples (images in [-1, 1])."""
        raw = self.decoder(z.to(self.device))
        return torch.sigmoid(raw) * 2 - 1 if self.cfg.loss == "bce" else self._output(raw)

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))
