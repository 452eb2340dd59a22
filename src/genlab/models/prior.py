"""Drawing latent vectors from a generator's prior, with the truncation trick.

A generator sees latent vectors near the centre of its prior far more often than ones from the tails, so it maps
the centre better. Truncation trades diversity for quality by keeping every component within a threshold
ψ: ``resample`` draws components beyond ψ again (a truncated normal, as in BigGAN), ``clamp`` moves them onto ±ψ.
"""

from __future__ import annotations

from typing import Literal

import torch

Prior = Literal["normal", "uniform"]
TruncationMode = Literal["resample", "clamp"]


def draw_latents(
    n: int,
    dim: int,
    prior: Prior = "normal",
    *,
    generator: torch.Generator | None = None,
    truncation: float | None = None,
    mode: TruncationMode = "resample",
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """(n, dim) latent vectors on the device of ``generator``, else on ``device`` from the global RNG there.

    ``normal`` is the standard Gaussian, ``uniform`` is uniform on [-1, 1]. With ``truncation`` ψ > 0 every component
    lies in [-ψ, ψ]. Resampling uses the inverse CDF of the prior restricted to [-ψ, ψ], which gives exactly the
    distribution of repeated rejection but costs one draw, however small ψ is.
    """
    if truncation is not None and truncation <= 0:
        raise ValueError(f"truncation must be positive (a threshold on |z_i|), got {truncation}")
    if mode not in ("resample", "clamp"):
        raise ValueError(f"truncation mode must be 'resample' or 'clamp', got {mode!r}")
    if generator is not None:
        device = generator.device
    if truncation is not None and mode == "resample":
        u = torch.rand(n, dim, generator=generator, device=device, dtype=torch.float64)
        if prior == "uniform":
            bound = min(truncation, 1.0)
            return ((u * 2 - 1) * bound).float()
        low = torch.special.ndtr(torch.tensor(-truncation, dtype=torch.float64, device=device))
        return torch.special.ndtri(low + u * (1 - 2 * low)).clamp(-truncation, truncation).float()
    if prior == "uniform":
        z = torch.rand(n, dim, generator=generator, device=device) * 2 - 1
    else:
        z = torch.randn(n, dim, generator=generator, device=device)
    return z if truncation is None else z.clamp(-truncation, truncation)
