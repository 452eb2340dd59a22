"""pix2pix (Isola et al. 2017): paired image-to-image translation, a conditional GAN plus an L1 term.

Every training sample is a pair (x, y) of an input and its target (``data.pair``: derived from the target, e.g.
its outline, or read aligned from an npz file), stacked on the channels. A U-Net G maps x to G(x); a PatchGAN D
judges pairs, (x, y) as real and (x, G(x)) as fake, concatenated on the channels, so it asks "is this a plausible
output for this input?" patch by patch. With any genlab objective's losses J_D and J_G on D's scores,

    D minimises  J_D(D(x, y), D(x, G(x)))
    G minimises  w_adv * J_G(D(x, G(x))) + lambda * mean |y - G(x)|           (paper: nonsaturating, lambda = 100)

(the L1 distance averaged over pixels and channels, as in the paper's code).

The L1 term alone already gets the low frequencies right but, averaging over every plausible output, blurs them;
the adversarial term, which a blurry patch does not fool, restores the sharp detail. ``adversarial_weight: 0`` is
the L1-only baseline (no discriminator is built or trained). As in the paper, D is updated first on each step.
Seed 000's layout-to-photograph example (Chen and Koltun 2017) is the same paired task, learned there with a
cascade of refinement modules and a perceptual (VGG feature-matching) loss instead of a U-Net and a discriminator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar

import torch
import torch.nn.functional as F
from pydantic import model_validator

from genlab import keys
from genlab.data import Batch
from genlab.data.pairs import split_pair
from genlab.errors import ConfigError, GenlabError
from genlab.hooks import Hook
from genlab.models.base import RECIPES, HookContext, ModelConfig, Recipe
from genlab.models.gan import ObjectiveField
from genlab.models.hooks import PreviewGrid
from genlab.models.optim import OptimConfig, frozen, minimise, translated
from genlab.nets.translation import PatchSpec
from genlab.nets.unet import UNetSpec
from genlab.objectives.nonsaturating import NonSaturating
from genlab.schema import Range, register_section

ONE_WAY = "a pix2pix run translates one way, its inputs into targets: use --direction a2b"


@register_section(RECIPES, key="recipe")
class Pix2PixConfig(ModelConfig):
    recipe: str = "pix2pix"
    paired: ClassVar[bool] = True
    generator: UNetSpec = UNetSpec()
    """The U-Net G: x -> G(x), with skips at every level and dropout as its noise."""
    discriminator: PatchSpec = PatchSpec()
    """The PatchGAN, on (input, output) pairs concatenated on the channels."""
    objective: ObjectiveField = NonSaturating()
    l1_weight: Annotated[float, Range(ge=0)] = 100.0
    """Weight lambda of the L1 distance between G(x) and the target (pix2pix: 100)."""
    adversarial_weight: Annotated[float, Range(ge=0)] = 1.0
    """Weight of the objective's generator loss; 0: the L1-only baseline, without a discriminator."""
    g_optim: OptimConfig = OptimConfig(lr=2e-4, betas=(0.5, 0.999))
    d_optim: OptimConfig = OptimConfig(lr=2e-4, betas=(0.5, 0.999))

    @model_validator(mode="after")
    def _usable(self) -> Pix2PixConfig:
        if self.l1_weight == 0 and self.adversarial_weight == 0:
            raise ValueError("model.l1_weight and model.adversarial_weight are both 0: G would learn nothing")
        if self.objective.scores == "energy":
            raise ValueError(f"objective '{self.objective.name}' needs an autoencoder discriminator; use lsgan, ...")
        return self

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> Pix2Pix:
        if len(image_shape) != 3 or image_shape[0] % 2:
            raise ConfigError(
                f"pix2pix trains on (input, target) pairs stacked on the channels, got samples of shape {image_shape}; "
                "set data.pair (edges, blur, mask, or inputs from an npz file)"
            )
        return Pix2Pix(self, image_shape, device)


class Pix2Pix(Recipe):
    generative: ClassVar[bool] = False

    def __init__(self, cfg: Pix2PixConfig, pair_shape: tuple[int, ...], device: torch.device):
        self.cfg, self.device = cfg, device
        channels, size = pair_shape[0] // 2, pair_shape[-1]
        self.shape = (channels, *pair_shape[1:])
        self.channels = {"a": channels, "b": channels}
        """Input and output channels, by the names ``genlab translate`` reads (a2b: input -> output)."""
        self.generator = cfg.generator.build(channels, channels, size).to(device)
        self.networks = {"generator": self.generator}
        self.optimizers = {"generator": cfg.g_optim.build(self.generator.parameters(), device)}
        self.discriminator = None
        if cfg.adversarial_weight:
            self.discriminator = cfg.discriminator.build(2 * channels, size).to(device)
            self.networks["discriminator"] = self.discriminator
            self.optimizers["discriminator"] = cfg.d_optim.build(self.discriminator.parameters(), device)
        self.objective = cfg.objective.model_copy(deep=True)

    def generator_terms(self, pairs: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """G's loss terms for the stacked ``pairs`` (x, y) and G's outputs ``fake`` = G(x): the L1 distance to y
        and, with a discriminator, the objective's generator loss of (x, G(x)) through the frozen D."""
        inputs, targets = split_pair(pairs)
        terms = {"l1": F.l1_loss(fake, targets)}
        if self.discriminator is not None:
            with frozen(self.discriminator):
                terms["adversarial"] = self.objective.generator_loss(
                    self.discriminator, torch.cat([inputs, fake], dim=1), pairs
                )
        return terms

    def generator_loss(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        loss = self.cfg.l1_weight * terms["l1"]
        return loss + self.cfg.adversarial_weight * terms["adversarial"] if "adversarial" in terms else loss

    def critic_loss(self, pairs: torch.Tensor, fake: torch.Tensor, step: int) -> torch.Tensor:
        """D's loss on the real pairs (x, y) against the fake pairs (x, G(x)), G(x) detached."""
        inputs = split_pair(pairs)[0]
        return self.objective.critic_loss(self.discriminator, pairs, torch.cat([inputs, fake.detach()], 1), step)

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        pairs = next_batch().images
        fake = self.generator(split_pair(pairs)[0])
        logs = {}
        if self.discriminator is not None:
            d_loss = self.critic_loss(pairs, fake, step)
            minimise(self.optimizers["discriminator"], d_loss)
            self.objective.after_d_step(self.discriminator)
            logs[keys.D_LOSS] = d_loss.detach()
        terms = self.generator_terms(pairs, fake)
        g_loss = self.generator_loss(terms)
        minimise(self.optimizers["generator"], g_loss)
        return logs | {keys.G_LOSS: g_loss.detach()} | {keys.LOSS_PREFIX + k: v.detach() for k, v in terms.items()}

    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """Inputs in [-1, 1] translated by G in eval mode (dropout off: the expected output); pix2pix learns one
        direction only, a2b (input -> target)."""
        if direction != "a2b":
            raise GenlabError(ONE_WAY)
        return translated(self.generator, images, self.device)

    def translations(self, pairs: torch.Tensor) -> list[torch.Tensor]:
        """The columns of a preview: input, G's output, target."""
        inputs, targets = split_pair(pairs)
        return [inputs, self.translate(inputs), targets]

    def hooks(self, context: HookContext) -> list[Hook]:
        """Grids of fixed training pairs: input | output | target."""
        return [
            PreviewGrid(context.data, self.device, self.translations, "translations", context.every, with_images=False)
        ]

    def extra_state(self) -> dict:
        return {"objective": self.objective.state_dict()}

    def load_extra_state(self, state: dict) -> None:
        self.objective.load_state_dict(state["objective"])
