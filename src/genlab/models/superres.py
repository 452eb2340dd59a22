"""Residual super-resolution (VDSR: Kim et al. 2016): learn only what interpolation misses.

Each training image is shrunk by ``factor`` (antialiased bilinear), enlarged back with plain ``upsample``
interpolation, and a stack of 3x3 convolutions predicts the residual between that blurry enlargement and the
original; the output is enlargement + residual. The last convolution starts at zero, so the untrained model is
exactly the interpolation baseline and training can only be judged by how far it gets beyond it (test PSNR).

Two options turn it into SRGAN (Ledig et al. 2017): ``loss: perceptual`` compares output and original in a
classifier's feature space instead of pixel by pixel (squared error rewards the blurry average of all
plausible answers), and ``adversary`` adds a discriminator, trained with any genlab objective to tell real images
from super-resolved ones, whose generator loss joins the network's loss with a small weight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import model_validator
from torch import nn

from genlab import keys
from genlab.data import Batch
from genlab.errors import ConfigError
from genlab.hooks import Hook
from genlab.models.autoencoder import psnr
from genlab.models.base import RECIPES, HookContext, ModelConfig, Recipe, reconstruction_grid
from genlab.models.gan import Net, ObjectiveField
from genlab.models.optim import OptimConfig, frozen, minimise
from genlab.models.perceptual import PerceptualConfig, PerceptualLossOption
from genlab.nets.dcgan import DCGAN
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import Range, Section, register_section


class Adversary(Section):
    """The discriminator of SRGAN and how much its verdict counts in the super-resolution network's loss."""

    discriminator: Net = DCGAN()
    objective: ObjectiveField = NonSaturating()
    weight: Annotated[float, Range(gt=0)] = 1e-3
    """Weight of the objective's generator loss beside the content loss (SRGAN: 1e-3 with a perceptual loss)."""
    d_optim: OptimConfig = OptimConfig()

    @model_validator(mode="after")
    def _classifier_objective(self) -> Adversary:
        if self.objective.scores == "energy":
            raise ValueError(
                f"objective '{self.objective.name}' needs an autoencoder discriminator; pick a classifier or critic "
                "objective (nonsaturating, lsgan, hinge, wgan-gp, ...)"
            )
        return self


@register_section(RECIPES, key="recipe")
class SuperResolutionConfig(PerceptualLossOption, ModelConfig):
    recipe: str = "superres"
    factor: Literal[2, 4] = 2
    """How much the images are shrunk and then enlarged again (e.g. MNIST 28 -> 14 -> 28)."""
    upsample: Literal["bilinear", "bicubic"] = "bicubic"
    """The interpolation the network improves on (and the baseline it is measured against)."""
    depth: Annotated[int, Range(ge=2, le=64)] = 8
    """3x3 convolutions in the residual branch (VDSR used 20)."""
    width: Annotated[int, Range(ge=1, le=1024)] = 32
    loss: Literal["mse", "perceptual"] = "mse"
    """Content loss between output and original: squared pixel error, or the perceptual loss of ``perceptual``."""
    perceptual: PerceptualConfig = PerceptualConfig()
    adversary: Adversary | None = None
    """A discriminator whose generator loss is added to the content loss (SRGAN); null: none."""
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

    def __init__(self, cfg: SuperResolutionConfig, shape: tuple[int, ...], device: torch.device):
        self.cfg = cfg
        self.device = device
        self.net = ResidualNet(shape[0], cfg.width, cfg.depth).to(device)
        self.networks = {"superres": self.net}
        self.optimizers = {"superres": cfg.optim.build(self.net.parameters(), device)}
        self.content_loss = cfg.perceptual.build(device) if cfg.loss == "perceptual" else F.mse_loss
        self.adversary = cfg.adversary
        if self.adversary is not None:
            self.discriminator = self.adversary.discriminator.discriminator(shape).to(device)
            self.objective = self.adversary.objective.model_copy(deep=True)
            self.networks["discriminator"] = self.discriminator
            self.optimizers["discriminator"] = self.adversary.d_optim.build(self.discriminator.parameters(), device)

    def enlarged_low_res(self, images: torch.Tensor) -> torch.Tensor:
        """The baseline: images shrunk by the factor, then enlarged back by interpolation."""
        size = images.shape[-2:]
        small = F.interpolate(images, scale_factor=1 / self.cfg.factor, mode="bilinear", antialias=True)
        return F.interpolate(small, size=size, mode=self.cfg.upsample, align_corners=False).clamp(-1, 1)

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        images = next_batch().images
        output = self.net(self.enlarged_low_res(images))
        loss = content = self.content_loss(output, images)
        logs = {keys.LOSS_PREFIX + self.cfg.loss: content.detach()}
        if self.adversary is not None:
            logs[keys.D_LOSS] = self._discriminator_step(images, output.detach(), step)
            adversarial = self._adversarial_loss(images, output)
            loss = content + self.adversary.weight * adversarial
            logs[keys.LOSS_PREFIX + "adversarial"] = adversarial.detach()
        minimise(self.optimizers["superres"], loss)
        return logs

    def _discriminator_step(self, real: torch.Tensor, fake: torch.Tensor, step: int) -> torch.Tensor:
        """D's update ``step`` (one per training step) on real images against (detached) super-resolved ones;
        returns its loss."""
        loss = self.objective.critic_loss(self.discriminator, real, fake, step)
        minimise(self.optimizers["discriminator"], loss)
        self.objective.after_d_step(self.discriminator)
        return loss.detach()

    def _adversarial_loss(self, real: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The objective's generator loss of ``output`` through the frozen discriminator."""
        with frozen(self.discriminator):
            return self.objective.generator_loss(self.discriminator, output, real)

    def hooks(self, context: HookContext) -> list[Hook]:
        """Grids of fixed real images beside their super-resolved shrunk copies."""
        return [reconstruction_grid(self, context)]

    def extra_state(self) -> dict:
        return {"objective": self.objective.state_dict()} if self.adversary is not None else {}

    def load_extra_state(self, state: dict) -> None:
        if self.adversary is not None:
            self.objective.load_state_dict(state["objective"])

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
