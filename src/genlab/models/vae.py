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
from genlab.schema import Range, register_section

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
        super().__init__(cfg.coder, cfg.optim, shape, device, 2 * cfg.z_dim, cfg.z_dim)  # encoder: mu and logvar
        self.cfg = cfg
        self.z_dim = cfg.z_dim

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

    def log_weights(
        self, target: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, k: int, kl_weight: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log p(x|z_i) and log p(z_i) - log q(z_i|x) for k draws z_i ~ q(z|x), each of shape (k, batch)."""
        eps = torch.randn(k, *mu.shape, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        raw = self.decoder(z.flatten(0, 1))
        log_px = self.log_likelihood(raw, target.repeat(k, *([1] * (target.dim() - 1)))).view(k, -1)
        zeros = torch.zeros_like(mu)
        log_prior_ratio = log_normal(z, zeros, zeros) - log_normal(z, mu, logvar)
        return log_px, kl_weight * log_prior_ratio

    # -- training --------------------------------------------------------------------------------------------

    def kl_weight(self, step: int) -> float:
        warm = min(1.0, step / self.cfg.kl_warmup) if self.cfg.kl_warmup else 1.0
        return self.cfg.beta * warm

    def train_step(self, next_batch: Callable[[], Batch], step: int) -> dict[str, torch.Tensor]:
        images = next_batch().images
        target = binarize(images) if self.cfg.binarize == "dynamic" else self.target(images)
        mu, logvar = self.posterior(images if self.cfg.binarize == "none" else target * 2 - 1)
        weight = self.kl_weight(step)
        kl = gaussian_kl(mu, logvar).sum(1)
        log_px, log_ratio = self.log_weights(target, mu, logvar, self.cfg.k, weight)
        if self.cfg.k == 1:
            objective = log_px[0] - weight * kl  # the ELBO, its KL term exact instead of sampled
        else:
            objective = torch.logsumexp(log_px + log_ratio, dim=0) - math.log(self.cfg.k)
        loss = -objective.mean()
        self.update(loss)
        return {
            "loss/vae": loss.detach(),
            "elbo": (log_px.mean(0) - kl).mean().detach(),
            "reconstruction": log_px.mean().detach(),
            "kl": kl.mean().detach(),
            "kl_weight": torch.tensor(weight, device=self.device),
            "active_units": (mu.detach().var(0, correction=0) > ACTIVE_THRESHOLD).sum().float(),
        }

    # -- the recipe interface ------------------------------------------------------------------------------------

    def _mean_sample(self, raw: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) as an image in [-1, 1]."""
        return torch.sigmoid(raw) * 2 - 1 if self.cfg.likelihood == "bernoulli" else raw.clamp(-1, 1)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is not None:
            raise ValueError("a VAE is unconditional: it takes no labels")
        return self._mean_sample(self.decoder(z.to(self.device)))

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.posterior(images.to(self.device))[0]

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
        log_px, log_ratio = vae.log_weights(target, mu, logvar, min(chunk, k - start), 1.0)
        total = torch.logaddexp(total, torch.logsumexp(log_px + log_ratio, dim=0))
    return total - math.log(k)


@torch.no_grad()
def latent_usage(vae: VAE, images: torch.Tensor) -> dict[str, object]:
    """Mean KL per latent dimension over ``images`` and the number of active units (variance over the images of
    E_q[z_i | x] above 0.01), which show posterior collapse."""
    mu, logvar = vae.posterior(images.to(vae.device))
    activity = mu.var(0, correction=0)
    return {
        "kl_per_dim": gaussian_kl(mu, logvar).mean(0).tolist(),
        "activity": activity.tolist(),
        "active_units": int((activity > ACTIVE_THRESHOLD).sum()),
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
