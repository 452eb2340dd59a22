"""The variational autoencoder (Kingma & Welling 2014) and its importance-weighted bound (IWAE, Burda et
al. 2016).

The encoder gives a Gaussian q(z|x) = N(mu, diag(exp(logvar))); z = mu + sigma * eps (the reparametrisation, so
gradients reach the encoder through the sample); the decoder gives p(x|z), Bernoulli (logits per pixel, targets the
intensities in [0, 1], or fresh 0/1 draws of them with ``binarize: dynamic``) or Gaussian (a mean per pixel and a
fixed standard deviation). With ``k = 1`` training maximises the ELBO

    E_q[log p(x|z)] - beta * KL(q(z|x) || N(0, I))

with the KL in closed form and its weight rising linearly from 0 to ``beta`` over the first ``kl_warmup`` steps (a
guard against posterior collapse); with ``k > 1`` it maximises the IWAE bound log (1/k) sum_i p(x, z_i) / q(z_i|x),
which is tighter and tends to keep more latent units active. All log-likelihoods are in nats per sample (summed
over pixels), so they compare directly with published MNIST figures.

``hierarchy`` adds a second stochastic layer z2 above z1 = z (Burda et al.'s two-layer model, 784-(200-200)-100-
(100-100)-50): q(z1|x) q(z2|z1) infers, p(z2) p(z1|z2) p(x|z1) generates, every conditional a diagonal Gaussian
from an MLP of tanh layers except the Bernoulli p(x|z1). The importance weights run over both layers,

    log w = log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1),   (z1, z2) ~ q(z1|x) q(z2|z1),

and k = 1 trains on their mean (the ELBO, its KL part sampled: no closed form across the layers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import model_validator

from genlab.data import Batch
from genlab.models.base import RECIPES, ModelConfig
from genlab.models.coders import CoderSpec, EncoderDecoder
from genlab.models.optim import OptimConfig
from genlab.nets.blocks import mlp
from genlab.schema import Range, Section, register_section

LOG_2PI = math.log(2 * math.pi)
ACTIVE_THRESHOLD = 0.01
"""A latent unit is active when the variance over the data of E_q[z_i | x] exceeds this (Burda et al. 2016)."""


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per dimension, in closed form."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).square() * torch.exp(-logvar)).sum(-1)


def binarize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """0/1 pixels drawn with probability equal to the intensity of images in [-1, 1] (MNIST's standard
    stochastic binarisation)."""
    return torch.bernoulli((images + 1) / 2, generator=generator)


class Hierarchy(Section):
    """The second stochastic layer z2 of a two-layer VAE: q(z2|z1) and p(z1|z2) are MLPs with these sizes (and the
    coder's activation), z2 ~ N(0, I) a priori."""

    z_dim: Annotated[int, Range(ge=1, le=4096)] = 50
    width: Annotated[int, Range(ge=1, le=4096)] = 100
    depth: Annotated[int, Range(ge=1, le=16)] = 2


@register_section(RECIPES, key="recipe")
class VAEConfig(ModelConfig):
    recipe: str = "vae"
    z_dim: Annotated[int, Range(ge=1, le=4096)] = 32
    coder: CoderSpec = CoderSpec()
    likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"
    """p(x|z): Bernoulli per pixel (intensities in [0, 1] as targets; near-binary data such as MNIST) or Gaussian
    with mean from the decoder and standard deviation ``gaussian_std``."""
    gaussian_std: Annotated[float, Range(gt=0)] = 0.1
    """Standard deviation of the Gaussian likelihood, in units of the [-1, 1] intensities."""
    binarize: Literal["none", "dynamic"] = "none"
    """Bernoulli only. dynamic: each training image is re-binarised (pixels drawn as 0/1 with probability equal to
    their intensity) every time it is used, the standard setting of published MNIST likelihoods."""
    beta: Annotated[float, Range(ge=0)] = 1.0
    """Weight of the KL term (beta-VAE); 1 gives the ELBO."""
    kl_warmup: Annotated[int, Range(ge=0)] = 0
    """Steps over which the KL weight rises linearly from 0 to beta."""
    k: Annotated[int, Range(ge=1, le=5000)] = 1
    """Importance samples per training image: 1 trains on the ELBO (VAE), more on the IWAE bound."""
    optim: OptimConfig = OptimConfig(lr=1e-3, betas=(0.9, 0.999))
    hierarchy: Hierarchy | None = None
    """A second stochastic layer above ``z_dim`` (Burda et al.'s two-layer IWAE: ``z_dim: 100``,
    ``hierarchy: {z_dim: 50, width: 100}``); null keeps one layer. The prior, and so ``sample``, is then on z2."""

    @model_validator(mode="after")
    def _binarize_bernoulli(self) -> VAEConfig:
        if self.binarize == "dynamic" and self.likelihood != "bernoulli":
            raise ValueError("binarize 'dynamic' needs likelihood 'bernoulli' (0/1 pixels have no Gaussian density)")
        return self

    def build(self, image_shape: tuple[int, ...], num_classes: int | None, device: torch.device) -> VAE:
        return VAE(self, image_shape, device)


class VAE(EncoderDecoder):
    generative: ClassVar[bool] = True

    def __init__(self, cfg: VAEConfig, shape: tuple[int, ...], device: torch.device):
        top, act = cfg.hierarchy, cfg.coder.activation
        extra = (
            {  # q(z2|z1) and p(z1|z2), each a mean and a log-variance
                "infer_z2": mlp(cfg.z_dim, 2 * top.z_dim, top.width, top.depth, act),
                "prior_z1": mlp(top.z_dim, 2 * cfg.z_dim, top.width, top.depth, act),
            }
            if top
            else {}
        )
        super().__init__(cfg.coder, cfg.optim, shape, device, 2 * cfg.z_dim, cfg.z_dim, extra)  # mu and logvar
        self.cfg = cfg
        self.z_dim = top.z_dim if top else cfg.z_dim

    # -- the model's densities ---------------------------------------------------------------------------------

    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu and logvar of q(z|x)."""
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        return mu, logvar

    def target(self, images: torch.Tensor) -> torch.Tensor:
        """What p(x|z) scores: intensities in [0, 1] (Bernoulli) or the [-1, 1] images (Gaussian). Images that
        are already 0/1 (binarised test sets) pass unchanged."""
        return (images + 1) / 2 if self.cfg.likelihood == "bernoulli" else images

    def log_likelihood(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per sample, summed over its elements; ``raw`` is the decoder's output."""
        if self.cfg.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(raw, target, reduction="none").flatten(1).sum(1)
        logvar = torch.full_like(raw, 2 * math.log(self.cfg.gaussian_std))
        return log_normal(target.flatten(1), raw.flatten(1), logvar.flatten(1))

    def gaussian(self, name: str, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu and logvar of the upper layers' Gaussian ``name`` (infer_z2: q(z2|z1); prior_z1: p(z1|z2)) at z."""
        mu, logvar = self.networks[name](z).chunk(2, dim=-1)
        return mu, logvar

    def log_weights(
        self, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, k: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log p(x|z_i) and log p(z_i) - log q(z_i|x) for k draws z_i ~ q(z|x), each of shape (k, batch); with a
        hierarchy, z_i = (z1, z2) ~ q(z1|x) q(z2|z1) and the ratio is log p(z1|z2) p(z2) - log q(z1|x) q(z2|z1)."""
        eps = torch.randn(k, *mu.shape, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        raw = self.decoder(z.flatten(0, 1))
        log_px = self.log_likelihood(raw, target.repeat(k, *([1] * (target.dim() - 1)))).view(k, -1)
        if self.cfg.hierarchy is None:
            zeros = torch.zeros_like(mu)
            return log_px, log_normal(z, zeros, zeros) - log_normal(z, mu, logvar)
        mu2, logvar2 = self.gaussian("infer_z2", z)
        z2 = mu2 + torch.exp(0.5 * logvar2) * torch.randn_like(mu2)
        prior_mu, prior_logvar = self.gaussian("prior_z1", z2)
        zeros = torch.zeros_like(mu2)
        log_p = log_normal(z, prior_mu, prior_logvar) + log_normal(z2, zeros, zeros)
        return log_px, log_p - log_normal(z, mu, logvar) - log_normal(z2, mu2, logvar2)

    def layer_means(self, mu: torch.Tensor, logvar: torch.Tensor, draws: int = 16) -> list[torch.Tensor]:
        """E_q[z_l | x] of each stochastic layer, from q(z1|x)'s ``mu``, ``logvar``: z1's is mu; z2's,
        E_{z1 ~ q(z1|x)} of q(z2|z1)'s mean, is averaged over ``draws`` draws of z1."""
        if self.cfg.hierarchy is None:
            return [mu]
        z = mu + torch.exp(0.5 * logvar) * torch.randn(draws, *mu.shape, device=mu.device, dtype=mu.dtype)
        return [mu, self.gaussian("infer_z2", z)[0].mean(0)]

    # -- training --------------------------------------------------------------------------------------------

    def kl_weight(self, step: int) -> float:
        warm = min(1.0, step / self.cfg.kl_warmup) if self.cfg.kl_warmup else 1.0
        return self.cfg.beta * warm

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        images = next_batch().images
        target = binarize(images) if self.cfg.binarize == "dynamic" else self.target(images)
        mu, logvar = self.posterior(images if self.cfg.binarize == "none" else target * 2 - 1)
        weight = self.kl_weight(step)
        # One layer: the KL in closed form, exact instead of sampled (taken before the draws, which fixes the order
        # autograd sums mu's gradients in); two layers: its one-sample estimate.
        kl = gaussian_kl(mu, logvar).sum(1) if self.cfg.hierarchy is None else None
        log_px, log_ratio = self.log_weights(target, mu, logvar, self.cfg.k)
        if kl is None:
            kl = -log_ratio.mean(0)
        if self.cfg.k == 1:
            objective = log_px[0] - weight * kl  # the ELBO
        else:
            objective = torch.logsumexp(log_px + weight * log_ratio, dim=0) - math.log(self.cfg.k)
        loss = -objective.mean()
        self.update(loss)
        with torch.no_grad():
            active = [(m.var(0, correction=0) > ACTIVE_THRESHOLD).sum().float() for m in self.layer_means(mu, logvar)]
        per_layer = {f"active_units/z{i}": n for i, n in enumerate(active, 1)} if len(active) > 1 else {}
        return {
            "loss/vae": loss.detach(),
            "elbo": (log_px.mean(0) - kl).mean().detach(),
            "reconstruction": log_px.mean().detach(),
            "kl": kl.mean().detach(),
            "kl_weight": torch.tensor(weight, device=self.device),
            "active_units": sum(active),
            **per_layer,
        }

    # -- the recipe interface ------------------------------------------------------------------------------------

    def _mean_sample(self, raw: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) as an image in [-1, 1]."""
        return torch.sigmoid(raw) * 2 - 1 if self.cfg.likelihood == "bernoulli" else raw.clamp(-1, 1)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The mean of p(x|z); with a hierarchy z is z2, decoded through the mean of p(z1|z2)."""
        if labels is not None:
            raise ValueError("a VAE is unconditional: it takes no labels")
        z = z.to(self.device)
        if self.cfg.hierarchy is not None:
            z = self.gaussian("prior_z1", z)[0]
        return self._mean_sample(self.decoder(z))

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The mean of q(z|x); with a hierarchy, of q(z2|z1) at z1's mean (the code :meth:`decode` takes)."""
        mu = self.posterior(images.to(self.device))[0]
        return mu if self.cfg.hierarchy is None else self.gaussian("infer_z2", mu)[0]

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))


@torch.no_grad()
def importance_bound(vae: VAE, target: torch.Tensor, k: int, chunk: int = 500) -> torch.Tensor:
    """The IWAE estimate of log p(x) per sample with ``k`` importance samples (k = 1: a one-sample ELBO), in nats.

    ``target`` is what the likelihood scores (for a Bernoulli VAE: 0/1 or [0, 1] pixels). Samples are drawn in
    chunks of ``chunk`` and combined with a running log-sum-exp, so k = 5000 fits in memory.
    """
    mu, logvar = vae.posterior(target * 2 - 1 if vae.cfg.likelihood == "bernoulli" else target)
    total = torch.full((len(target),), -math.inf, device=target.device)
    for start in range(0, k, chunk):
        log_px, log_ratio = vae.log_weights(target, mu, logvar, min(chunk, k - start))
        total = torch.logaddexp(total, torch.logsumexp(log_px + log_ratio, dim=0))
    return total - math.log(k)


@torch.no_grad()
def latent_usage(vae: VAE, images: torch.Tensor) -> dict[str, object]:
    """The number of active units (variance over the images of E_q[z_i | x] above 0.01), which show posterior
    collapse, in all and per stochastic layer; for one layer also the mean KL to the prior per latent dimension
    (with two, z1's prior p(z1|z2) has no closed-form KL). ``activity`` is the top layer's, the code that
    :meth:`VAE.encode` gives and :meth:`VAE.decode` takes."""
    mu, logvar = vae.posterior(images.to(vae.device))
    activity = [m.var(0, correction=0) for m in vae.layer_means(mu, logvar)]
    per_layer = [int((a > ACTIVE_THRESHOLD).sum()) for a in activity]
    kl = {"kl_per_dim": gaussian_kl(mu, logvar).mean(0).tolist()} if vae.cfg.hierarchy is None else {}
    return {
        **kl,
        "activity": activity[-1].tolist(),
        "active_units": sum(per_layer),
        "active_units_per_layer": per_layer,
    }


def estimate_nll(vae: VAE, images: torch.Tensor, k: int, seed: int = 0, batch: int = 100) -> dict[str, object]:
    """Test -log p(x) in nats by the IWAE estimate with ``k`` samples, for images in [-1, 1].

    For a Bernoulli VAE trained on binarised data the images are binarised once with ``seed`` (the standard
    protocol: a fixed binarisation of the test set); the draws of z come from the same seed, so a call is
    reproducible. Also reports the one-sample ELBO estimate, its gap to the bound, and the latent usage.
    """
    with torch.random.fork_rng(devices=[vae.device] if vae.device.type == "cuda" else []):
        torch.manual_seed(seed)
        binary = vae.cfg.likelihood == "bernoulli" and vae.cfg.binarize == "dynamic"
        target = binarize(images, torch.Generator().manual_seed(seed)) if binary else vae.target(images)
        target = target.to(vae.device)
        bounds = torch.cat([importance_bound(vae, part, k) for part in target.split(batch)])
        elbos = torch.cat([importance_bound(vae, part, 1) for part in target.split(batch)])
        usage = latent_usage(vae, target * 2 - 1 if vae.cfg.likelihood == "bernoulli" else target)
    return {
        "nll": -bounds.mean().item(),
        "nll_standard_error": (bounds.std() / math.sqrt(len(bounds))).item(),
        "elbo": elbos.mean().item(),
        "k": k,
        "n": len(bounds),
        "binarised_test_set": binary,
        "seed": seed,
        **usage,
    }
