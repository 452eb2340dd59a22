"""CycleGAN (Zhu et al. 2017): translation between two unpaired image domains.

Domain A is the run's ``data``, domain B is ``model.domain_b``; batches of the two are drawn independently, so no
image of A is ever shown with its counterpart in B (there need not be one). Two translators G: A -> B and F: B -> A
and two discriminators D_A, D_B play two GANs at once (any genlab objective; LSGAN by default), and the
cycle-consistency loss ||F(G(a)) - a||_1 + ||G(F(b)) - b||_1, weighted by ``cycle_weight``, makes the translations
keep what the domains share (for MNIST styles: the digit). The optional identity loss ||G(b) - b||_1 +
||F(a) - a||_1 asks each translator to leave images already in its target domain alone. The discriminators see
fakes partly drawn from a pool of earlier translations (historical batches, as in the GAN recipe's replay trick),
which damps oscillation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import model_validator

from genlab import keys
from genlab.data import Batch, DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.hooks import Hook
from genlab.models.base import RECIPES, HookContext, ModelConfig, Recipe
from genlab.models.gan import ObjectiveField
from genlab.models.hooks import PreviewGrid
from genlab.models.optim import OptimConfig, frozen, minimise, translated
from genlab.models.tricks import ReplayBuffer, ReplayConfig
from genlab.nets.translation import PatchSpec, TranslatorSpec
from genlab.objectives.lsgan import LSGAN
from genlab.schema import Range, register_section

Direction = Literal["a2b", "b2a"]


@register_section(RECIPES, key="recipe")
class CycleGANConfig(ModelConfig):
    recipe: str = "cyclegan"
    domain_b: DataConfig | None = None
    """The second domain's images (domain A is the run's ``data``), at the same size; e.g. {name: mnist, half:
    second, style: thicken}."""
    generator: TranslatorSpec = TranslatorSpec()
    """Both translators, G: A -> B and F: B -> A."""
    discriminator: PatchSpec = PatchSpec()
    """Both discriminators, D_A and D_B."""
    objective: ObjectiveField = LSGAN()
    cycle_weight: Annotated[float, Range(ge=0)] = 10.0
    """Weight lambda of the cycle-consistency L1 loss (CycleGAN: 10)."""
    identity_weight: Annotated[float, Range(ge=0)] = 0.0
    """Weight of the identity L1 loss (CycleGAN used 0.5 x lambda for paintings <-> photos); 0 leaves it out."""
    pool: ReplayConfig | None = ReplayConfig(size=50, fraction=0.5)
    """History of earlier translations mixed into the discriminators' fake batches; null: fresh fakes only."""
    g_optim: OptimConfig = OptimConfig(lr=2e-4, betas=(0.5, 0.999))
    d_optim: OptimConfig = OptimConfig(lr=2e-4, betas=(0.5, 0.999))

    @model_validator(mode="after")
    def _usable(self) -> CycleGANConfig:
        if self.domain_b is None:
            raise ValueError(
                "model.domain_b is required: the second domain's data, e.g. {name: mnist, half: second, "
                "style: thicken} (domain A is the run's data section)"
            )
        if self.objective.scores == "energy":
            raise ValueError(f"objective '{self.objective.name}' needs an autoencoder discriminator; use lsgan, ...")
        return self

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> CycleGAN:
        return CycleGAN(self, image_shape, device)


class CycleGAN(Recipe):
    generative: ClassVar[bool] = False

    def __init__(self, cfg: CycleGANConfig, shape_a: tuple[int, ...], device: torch.device):
        self.cfg, self.device = cfg, device
        self.domain_b = load_dataset(cfg.domain_b).to(device)
        shape_b = self.domain_b.shape
        if len(shape_a) != 3 or len(shape_b) != 3 or shape_a[1:] != shape_b[1:]:
            raise ConfigError(
                f"CycleGAN needs two image domains of the same size; domain A (data) has shape {shape_a}, domain B "
                f"(model.domain_b) {shape_b}: set the same size in both"
            )
        size = shape_a[-1]
        self.channels = {"a": shape_a[0], "b": shape_b[0]}
        self.g_ab = cfg.generator.build(shape_a[0], shape_b[0], size).to(device)
        self.g_ba = cfg.generator.build(shape_b[0], shape_a[0], size).to(device)
        self.d_a = cfg.discriminator.build(shape_a[0], size).to(device)
        self.d_b = cfg.discriminator.build(shape_b[0], size).to(device)
        self.networks = {"g_ab": self.g_ab, "g_ba": self.g_ba, "d_a": self.d_a, "d_b": self.d_b}
        self.objective = cfg.objective.model_copy(deep=True)
        generators = [*self.g_ab.parameters(), *self.g_ba.parameters()]
        self.optimizers = {
            "generators": cfg.g_optim.build(generators, device),
            "discriminators": cfg.d_optim.build([*self.d_a.parameters(), *self.d_b.parameters()], device),
        }
        self.pools = (
            {"a": ReplayBuffer(cfg.pool, shape_a, device), "b": ReplayBuffer(cfg.pool, shape_b, device)}
            if cfg.pool is not None
            else {}
        )

    def _draw_b(self, n: int) -> torch.Tensor:
        """``n`` images of domain B, drawn independently of A's batch (global RNG: checkpoints restore it)."""
        return self.domain_b.images[torch.randint(len(self.domain_b), (n,), device=self.device)]

    def generator_losses(
        self, a: torch.Tensor, b: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """The translators' loss terms on one pair of batches (through frozen discriminators) and the fakes
        G(a), F(b)."""
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        with frozen(self.d_a, self.d_b):
            adversarial = self.objective.generator_loss(self.d_b, fake_b, b) + self.objective.generator_loss(
                self.d_a, fake_a, a
            )
        cycle = F.l1_loss(self.g_ba(fake_b), a) + F.l1_loss(self.g_ab(fake_a), b)
        terms = {"adversarial": adversarial, "cycle": cycle}
        if self.cfg.identity_weight:
            terms["identity"] = F.l1_loss(self.g_ab(b), b) + F.l1_loss(self.g_ba(a), a)
        return terms, fake_b, fake_a

    def generator_loss(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        loss = terms["adversarial"] + self.cfg.cycle_weight * terms["cycle"]
        return loss + self.cfg.identity_weight * terms["identity"] if "identity" in terms else loss

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        a = next_batch().images
        b = self._draw_b(len(a))
        terms, fake_b, fake_a = self.generator_losses(a, b)
        g_loss = self.generator_loss(terms)
        minimise(self.optimizers["generators"], g_loss)
        if self.pools:
            fake_a, fake_b = self.pools["a"].mix(fake_a), self.pools["b"].mix(fake_b)
        d_loss = self.objective.critic_loss(self.d_a, a, fake_a.detach(), step) + self.objective.critic_loss(
            self.d_b, b, fake_b.detach(), step
        )
        minimise(self.optimizers["discriminators"], d_loss)
        for d in (self.d_a, self.d_b):
            self.objective.after_d_step(d)
        return {keys.G_LOSS: g_loss.detach(), keys.D_LOSS: d_loss.detach()} | {
            keys.LOSS_PREFIX + name: value.detach() for name, value in terms.items()
        }

    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: Direction = "a2b") -> torch.Tensor:
        """Images of one domain in [-1, 1] translated into the other (G for a2b, F for b2a), in eval mode."""
        return translated(self.g_ab if direction == "a2b" else self.g_ba, images, self.device)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """The round trip F(G(a)) of domain-A images (what the cycle-consistency loss compares with them)."""
        return self.translate(self.translate(images, "a2b"), "b2a")

    def translations(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The translations G(a) of domain-A images and their round trips F(G(a))."""
        translated = self.translate(images, "a2b")
        return [translated, self.translate(translated, "b2a")]

    def hooks(self, context: HookContext) -> list[Hook]:
        """Grids of fixed domain-A images beside their translations and round trips."""
        return [PreviewGrid(context.data, self.device, self.translations, "translations", context.every)]

    def extra_state(self) -> dict:
        return {"objective": self.objective.state_dict(), "pools": {k: p.state_dict() for k, p in self.pools.items()}}

    def load_extra_state(self, state: dict) -> None:
        self.objective.load_state_dict(state["objective"])
        for key, pool in self.pools.items():
            pool.load_state_dict(state["pools"][key])
