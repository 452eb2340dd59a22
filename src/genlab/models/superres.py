"""Residual super-resolution (seed 000, VDSR: Kim et al. 2016): learn only what interpolation misses.

Each training image is shrunk by ``factor`` (antialiased bilinear), enlarged back with plain ``upsample``
interpolation, and a stack of 3x3 convolutions predicts the residual between that blurry enlargement and the
original; the output is enlargement + residual. The last convolution starts at zero, so the untrained model is
exactly the interpolation baseline and training can only be judged by how far it gets beyond it (test PSNR).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from genlab.data import Batch
from genlab.errors import ConfigError
from genlab.models.autoencoder import psnr
from genlab.models.base import RECIPES, ModelConfig, Recipe
from genlab.models.optim import OptimConfig, minimise
from genlab.schema import Range, register_section


@register_section(RECIPES, key="recipe")
class SuperResolutionConfig(ModelConfig):
    recipe: str = "superres"
    factor: Literal[2, 4] = 2
    """How much the images are shrunk and then enlarged again (e.g. MNIST 28 -> 14 -> 28)."""
    upsample: Literal["bilinear", "bicubic"] = "bicubic"
    """The interpolation the network improves on (and the baseline it is measured against)."""
    depth: Annotated[int, Range(ge=2, le=64)] = 8
    """3x3 convolutions in the residual branch (VDSR used 20)."""
    width: Annotated[int, Range(ge=1, le=1024)] = 32
    optim: OptimConfig = OptimConfig(lr=1e-3, betas=(0.9, 0.999))

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> SuperResolution:
        if len(image_shape) != 3 or image_shape[1] % self.factor or image_shape[2] % self.factor:
            raise ConfigError(
                f"super-resolution needs images whose sides the factor {self.factor} divides; got {image_shape}"
            )
        return SuperResolution(self, image_shape, device)


class ResidualNet(nn.Module):
    """VDSR: ``x + f(x)`` with f a plain stack of 3x3 conv + ReLU layers, the last one linear and zero-initialised."""

    def __init__(self, channels: int, width: int, depth: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        last = nn.Conv2d(width, channels, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.residual = nn.Sequential(*layers, last)

    def forward(self, enlarged: torch.Tensor) -> torch.Tensor:
        return enlarged + self.residual(enlarged)


class SuperResolution(Recipe):
    generative: ClassVar[bool] = False
    reconstructs: ClassVar[bool] = True

    def __init__(self, cfg: SuperResolutionConfig, shape: tuple[int, ...], device: torch.device):
        self.cfg = cfg
        self.device = device
        self.net = ResidualNet(shape[0], cfg.width, cfg.depth).to(device)
        self.networks = {"superres": self.net}
        self.optimizers = {"superres": cfg.optim.build(self.net.parameters(), device)}

    def enlarged_low_res(self, images: torch.Tensor) -> torch.Tensor:
        """The baseline: images shrunk by the factor, then enlarged back by interpolation."""
        size = images.shape[-2:]
        small = F.interpolate(images, scale_factor=1 / self.cfg.factor, mode="bilinear", antialias=True)
        return F.interpolate(small, size=size, mode=self.cfg.upsample, align_corners=False).clamp(-1, 1)

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        images = next_batch().images
        loss = F.mse_loss(self.net(self.enlarged_low_res(images)), images)
        minimise(self.optimizers["superres"], loss)
        return {"loss/mse": loss.detach()}

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Super-resolved versions of the shrunk ``images``."""
        return self.net(self.enlarged_low_res(images.to(self.device))).clamp(-1, 1)

    @torch.no_grad()
    def psnr_against_baseline(self, images: torch.Tensor) -> dict[str, float]:
        """Mean PSNR (dB) over ``images`` of the interpolation baseline and of the network."""
        images = images.to(self.device)
        return {
            "baseline_psnr": psnr(self.enlarged_low_res(images), images).mean().item(),
            "model_psnr": psnr(self.reconstruct(images), images).mean().item(),
        }
