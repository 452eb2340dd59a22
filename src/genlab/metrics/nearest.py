"""Nearest-neighbour distances between image sets, a cheap two-sided sample-quality check.

``nearest_distance(fakes, reals)`` is small when every generated image is close to some real one (fidelity);
``nearest_distance(reals, fakes)`` is small when every real image has a generated one nearby (coverage). A
generator stuck on one good image passes the first and fails the second, so look at both.
"""

from __future__ import annotations

import torch

CHUNK = 1024


def nearest_distance(queries: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """For each query image, the Euclidean distance (over all pixels) to its nearest reference image, shape (N,)."""
    q = queries.reshape(len(queries), -1).float()
    r = reference.reshape(len(reference), -1).float().to(q.device)
    return torch.cat([torch.cdist(chunk, r).min(dim=1).values for chunk in q.split(CHUNK)])


def nearest_neighbour_scores(fakes: torch.Tensor, reals: torch.Tensor) -> dict[str, float]:
    """Mean nearest-neighbour distance fake->real (fidelity) and real->fake (coverage); lower is better."""
    return {
        "nn_fake_to_real": nearest_distance(fakes, reals).mean().item(),
        "nn_real_to_fake": nearest_distance(reals, fakes).mean().item(),
    }
