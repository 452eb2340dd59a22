"""Support size by the birthday paradox (Arora, Risteski and Zhang 2018, "Do GANs learn the distribution?").

Seed 002 asks whether a GAN learns the data distribution or a small set of images. If a distribution is uniform on
N items, a batch of s draws holds a repeated item with probability 1 − Π_{i<s}(1 − i/N) ≈ 1 − exp(−s(s−1)/(2N)),
about 1/2 once s ≈ sqrt(2 ln 2 · N): batches of a few hundred samples that already hold near-duplicates betray a
support of only tens of thousands of images, whatever the samples look like one by one. Two estimates from one
pool of n samples and a distance τ below which two samples count as the same image:

* the batch test (the paper's): P_s, the share of ``trials`` random batches of s samples that hold a pair closer
  than τ, for s = 4, 8, 16, ... up to ``max_batch``; at the s whose P_s is nearest 1/2,
  N_batch = s(s−1) / (−2 ln(1 − P_s)), the N for which the birthday formula gives P_s;
* the pair count: with q the share of the n(n−1)/2 pairs of the pool closer than τ, N_pairs = 1/q: exactly N for
  a uniform distribution on N items and 1/Σ p_i² (the collision size, at most the support) for any other. It uses
  every pair, so it is the less noisy of the two.

Where no pair is close enough, both are lower bounds (n(n−1)/2, and the birthday N of the largest batch at
P = 1/(2 trials)), flagged by ``support_lower_bound``. τ comes from real data, as in the memorisation test: the
``percentile``-th percentile of held-out real images' distances to their nearest training image, so two samples
count as one image when they are closer than all but ``percentile`` % of fresh real images are to any training
image. The estimate depends on τ: the paper had people confirm the closest pairs, which
:func:`closest_pool_pairs` finds for a figure (``genlab lab birthday`` draws them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from genlab.metrics.arrays import Array, feature_tensor
from genlab.metrics.base import METRICS, Metric, MetricInputs
from genlab.metrics.memorisation import heldout_threshold
from genlab.metrics.nearest import CHUNK_ELEMENTS, nearest_neighbours

DUPLICATE_PERCENTILE = 1.0
"""Default τ: the 1st percentile of held-out real images' nearest-training distances."""


@dataclass(frozen=True)
class SupportEstimate:
    pairs: float
    """N_pairs = 1 / (share of pool pairs closer than τ)."""
    batch: float
    """N_batch from the batch test."""
    batch_size: int
    """The batch size s whose duplicate probability was nearest 1/2."""
    duplicate_pairs: int
    """Pairs of the pool closer than τ."""
    lower_bound: bool
    """No pair was closer than τ: both estimates are lower bounds."""
    batch_probabilities: dict[int, float]
    """P_s for every batch size tried."""

    def as_values(self) -> dict[str, float]:
        return {
            "support_pairs": self.pairs,
            "support_batch": self.batch,
            "support_batch_size": float(self.batch_size),
            "support_duplicate_pairs": float(self.duplicate_pairs),
            "support_lower_bound": float(self.lower_bound),
        }


def duplicate_threshold(train: Array, heldout: Array, percentile: float = DUPLICATE_PERCENTILE) -> float:
    """τ: the ``percentile``-th percentile of the distances from ``heldout`` real features to their nearest
    ``train`` feature (both (N, D) matrices of one feature space), the memorisation test's threshold."""
    distances, _ = nearest_neighbours(heldout, train)
    return heldout_threshold(distances, percentile)


def _pair_distance_blocks(features: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
    """(first row, distances of a block of rows to every row), with +inf wherever the column is not after the row,
    so each unordered pair of distinct rows is counted once; blocks bound the memory of any pool size."""
    rows = max(1, CHUNK_ELEMENTS // len(features))
    columns = torch.arange(len(features), device=features.device).view(1, -1)
    for start in range(0, len(features), rows):
        block = torch.cdist(features[start : start + rows], features)
        own = torch.arange(start, start + len(block), device=features.device).view(-1, 1)
        yield start, block.masked_fill(columns <= own, math.inf)


def count_close_pairs(features: torch.Tensor, threshold: float) -> int:
    """Unordered pairs of rows closer than ``threshold``."""
    return sum(int((block < threshold).sum()) for _, block in _pair_distance_blocks(features))


def birthday_support(s: int, probability: float) -> float:
    """The N for which a batch of ``s`` draws, uniform on N items, holds a repeat with ``probability`` in (0, 1)."""
    return s * (s - 1) / (-2 * math.log1p(-probability))


def support_size(
    samples: Array,
    threshold: float,
    *,
    trials: int = 20,
    max_batch: int = 1024,
    seed: int = 0,
) -> SupportEstimate:
    """Both birthday-paradox estimates (module docstring) for the feature matrix ``samples`` (n, D) and ``τ``."""
    features = feature_tensor(samples, "samples", min_rows=4)
    if not threshold > 0:
        raise ValueError(f"threshold must be a positive distance, got {threshold}")
    if trials < 1 or max_batch < 4:
        raise ValueError(f"need trials >= 1 and max_batch >= 4, got {trials} and {max_batch}")
    n = len(features)
    pairs_total = n * (n - 1) // 2
    duplicates = count_close_pairs(features, threshold)
    generator = torch.Generator().manual_seed(seed)
    probabilities: dict[int, float] = {}
    s = 4
    while s <= min(max_batch, n):
        chosen = torch.stack([torch.randperm(n, generator=generator)[:s] for _ in range(trials)])
        batches = features[chosen.to(features.device)]  # (trials, s, D)
        close = torch.cdist(batches, batches) < threshold
        repeats = close.triu(diagonal=1).flatten(1).any(dim=1)
        probabilities[s] = float(repeats.double().mean())
        if probabilities[s] >= 0.5:
            break
        s *= 2
    inside = {size: p for size, p in probabilities.items() if 0 < p < 1}
    if inside:
        batch_size = min(inside, key=lambda size: abs(inside[size] - 0.5))
        batch = birthday_support(batch_size, inside[batch_size])
    elif probabilities[min(probabilities)] == 1:  # even the smallest batch always repeats
        batch_size = min(probabilities)
        batch = birthday_support(batch_size, 1 - 1 / (2 * trials))
    else:  # no batch ever held a repeat
        batch_size = max(probabilities)
        batch = birthday_support(batch_size, 1 / (2 * trials))
    return SupportEstimate(
        pairs=pairs_total / max(duplicates, 1),
        batch=batch,
        batch_size=batch_size,
        duplicate_pairs=duplicates,
        lower_bound=duplicates == 0,
        batch_probabilities=probabilities,
    )


def closest_pool_pairs(features: Array, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` closest pairs of distinct rows: an array (k, 2) of row indices (i < j) and their (k,) distances,
    closest first; the pairs a person looks at before trusting an estimate. A block of rows at a time."""
    pool = feature_tensor(features, "features", min_rows=2)
    n = len(pool)
    if not 1 <= k <= n * (n - 1) // 2:
        raise ValueError(f"k must be between 1 and the {n * (n - 1) // 2} pairs of the pool, got {k}")
    best_values, best_pairs = torch.empty(0, dtype=pool.dtype), torch.empty(0, 2, dtype=torch.long)
    for start, block in _pair_distance_blocks(pool):
        values, flat = block.flatten().topk(min(k, block.numel()), largest=False)
        pairs = torch.stack([flat // n + start, flat % n], dim=1).cpu()
        best_values, best_pairs = torch.cat([best_values, values.cpu()]), torch.cat([best_pairs, pairs])
        order = torch.argsort(best_values, stable=True)[:k]
        best_values, best_pairs = best_values[order], best_pairs[order]
    return best_pairs.numpy(), best_values.numpy()


@METRICS.register("support")
class Support(Metric):
    """Support size of the samples by the birthday paradox (pair count and batch test), near-duplicates being
    pairs closer than 99 % of held-out real images are to the training set, in the evaluator's feature space."""

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        held_out = inputs.reference("test" if inputs.cfg.real_split == "train" else "train")
        threshold = duplicate_threshold(inputs.real.extracted.features, held_out.extracted.features)
        estimate = support_size(inputs.fake.features, threshold, seed=inputs.cfg.seed)
        return estimate.as_values() | {"support_threshold": threshold}
