"""Nearest-neighbour distances between sample sets, a cheap two-sided sample-quality check.

``nearest_distance(fakes, reals)`` is small when every generated image is close to some real one (fidelity);
``nearest_distance(reals, fakes)`` is small when every real image has a generated one nearby (coverage). A
generator stuck on one good image passes the first and fails the second, so look at both. The memorisation test
builds on :func:`nearest_neighbours`.
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.metrics.arrays import Array, feature_tensor

CHUNK_ELEMENTS = 1 << 24
"""Entries of one block of the pairwise-distance matrix (128 MB in float64): bounds the memory of any set size."""


def nearest_neighbours(queries: Array, reference: Array) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``queries`` (N, D), the Euclidean distance to its nearest row of ``reference`` (M, D) and that
    row's index: float64 and int64 arrays of shape (N,).

    Computed in float64 on the device ``queries`` are on, a block of rows at a time with ``torch.cdist``, so the
    full (N, M) matrix is never held in memory.
    """
    q = feature_tensor(queries, "queries")
    r = feature_tensor(reference, "reference", device=q.device)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} features per row but reference rows have {r.shape[1]}")
    rows = max(1, CHUNK_ELEMENTS // len(r))
    distances, indices = [], []
    for block in q.split(rows):
        nearest = torch.cdist(block, r).min(dim=1)
        distances.append(nearest.values.cpu())
        indices.append(nearest.indices.cpu())
    return torch.cat(distances).numpy(), torch.cat(indices).numpy()


def nearest_distance(queries: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """For each query sample, the Euclidean distance (over all pixels) to its nearest reference sample, shape (N,)."""
    distances, _ = nearest_neighbours(queries.reshape(len(queries), -1), reference.reshape(len(reference), -1))
    return torch.from_numpy(distances)


def nearest_neighbour_scores(fakes: torch.Tensor, reals: torch.Tensor) -> dict[str, float]:
    """Mean nearest-neighbour distance fake->real (fidelity) and real->fake (coverage); lower is better."""
    return {
        "nn_fake_to_real": nearest_distance(fakes, reals).mean().item(),
        "nn_real_to_fake": nearest_distance(reals, fakes).mean().item(),
    }
