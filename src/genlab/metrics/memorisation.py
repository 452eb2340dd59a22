"""Memorisation test: does the generator copy its training set, or generalise from it?

Nearest-neighbour distance to the training set alone cannot tell: real images of a dense class lie close to training
images too. The held-out split calibrates it. Held-out real images are fresh samples of the data distribution, so
their distances to the nearest training image show how close a *generalising* generator's samples would be. Let the
threshold be the ``percentile``-th percentile of those held-out distances: about ``percentile`` % of fresh samples
fall below it by definition, while a generator that reproduces training images (up to small changes) puts almost
all its samples below it. So the fraction of generated samples closer than the threshold is about
``percentile / 100`` for a generalising model and rises towards 1 the more it copies.

Distances are Euclidean in whatever feature space the caller passes (pixels, classifier or Inception features).
:func:`closest_pairs` picks the most suspicious samples; :func:`genlab.viz.closest_pairs.plot_closest_pairs` shows
them next to their nearest training images, the check to make before trusting any number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genlab.metrics.arrays import Array, feature_tensor, to_numpy
from genlab.metrics.base import METRICS, Metric, MetricInputs
from genlab.metrics.nearest import nearest_neighbours


def memorisation(generated: Array, train: Array, heldout: Array, percentile: float = 1.0) -> dict[str, float | int]:
    """Fraction of generated samples closer to the training set than ``percentile`` % of held-out real samples are.

    All three are feature matrices (N, D) with the same D; ``heldout`` must be real data the generator never saw.
    Returns ``memorised_fraction`` (about ``percentile / 100`` when the generator generalises, near 1 when it copies),
    ``threshold`` (the ``percentile``-th percentile of the held-out distances), ``median_generated`` and
    ``median_heldout`` (median nearest-training distances; a generated median far below the held-out one also
    signals copying), ``percentile`` and the counts ``n_generated``, ``n_train``, ``n_heldout``.
    """
    train_t = feature_tensor(train, "train")
    generated_distances, _ = nearest_neighbours(feature_tensor(generated, "generated", device=train_t.device), train_t)
    heldout_distances, _ = nearest_neighbours(feature_tensor(heldout, "heldout", device=train_t.device), train_t)
    stats = memorisation_from_distances(generated_distances, heldout_distances, percentile)
    return {**stats, "n_train": len(train_t)}


def memorisation_from_distances(
    generated_distances: Array, heldout_distances: Array, percentile: float = 1.0
) -> dict[str, float | int]:
    """:func:`memorisation` from nearest-training distances computed beforehand with :func:`nearest_neighbours`
    (reuse them for :func:`closest_pairs` instead of computing them twice)."""
    generated = to_numpy(generated_distances, "generated_distances")
    heldout = to_numpy(heldout_distances, "heldout_distances")
    if generated.ndim != 1 or heldout.ndim != 1 or len(generated) == 0:
        raise ValueError(f"distances must be non-empty vectors (N,), got shapes {generated.shape} and {heldout.shape}")
    threshold = heldout_threshold(heldout, percentile)
    return {
        "memorised_fraction": float((generated < threshold).mean()),
        "threshold": threshold,
        "median_generated": float(np.median(generated)),
        "median_heldout": float(np.median(heldout)),
        "percentile": float(percentile),
        "n_generated": len(generated),
        "n_heldout": len(heldout),
    }


def heldout_threshold(heldout_distances: Array, percentile: float = 1.0) -> float:
    """The ``percentile``-th percentile of held-out real samples' nearest-training distances: closer than that, a
    sample is nearer the training set than all but ``percentile`` % of fresh real data (the memorisation test's
    threshold, and the support test's near-duplicate distance)."""
    heldout = to_numpy(heldout_distances, "heldout_distances")
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be in (0, 100), got {percentile}; 1.0 means the 1st percentile")
    needed = math.ceil(100 / percentile)
    if len(heldout) < needed:
        raise ValueError(
            f"the {percentile}th percentile needs at least {needed} held-out samples to lie between two of them, "
            f"got {len(heldout)}; pass more held-out samples or a larger percentile"
        )
    threshold = float(np.percentile(heldout, percentile))
    if threshold <= 0:
        raise ValueError(
            f"the {percentile}th percentile of the held-out distances is 0: at least {percentile}% of the held-out "
            "samples also occur in the training set. Use a held-out split disjoint from the training data"
        )
    return threshold


@dataclass(frozen=True)
class ClosestPairs:
    """The generated samples nearest to the training set, closest first."""

    generated: np.ndarray
    """(k,) indices into the generated set."""
    train: np.ndarray
    """(k,) index of each one's nearest training sample."""
    distances: np.ndarray
    """(k,) their distances, ascending."""

    def __len__(self) -> int:
        return len(self.generated)


def closest_pairs(distances: Array, indices: Array, k: int = 8) -> ClosestPairs:
    """The ``k`` generated samples with the smallest nearest-training ``distances`` (ties: lower index first), with
    their nearest training ``indices``; both arrays as returned by :func:`nearest_neighbours` (generated, train)."""
    d = to_numpy(distances, "distances")
    idx = torch.as_tensor(indices).cpu().numpy()
    if d.ndim != 1 or idx.shape != d.shape or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"distances and indices must be vectors of the same length, indices integer; got shapes {d.shape} "
            f"and {idx.shape}, indices dtype {idx.dtype}"
        )
    if not 1 <= k <= len(d):
        raise ValueError(f"k must be between 1 and the number of generated samples ({len(d)}), got {k}")
    order = np.argsort(d, kind="stable")[:k]
    return ClosestPairs(order, idx[order].astype(np.int64), d[order])


@METRICS.register("mem")
class Memorisation(Metric):
    """Share of samples closer to the training set than 99 % of held-out real images (about 0.01 when the
    generator generalises), in the evaluator's feature space; the held-out set is the other split."""

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        held_out = inputs.reference("test" if inputs.cfg.real_split == "train" else "train")
        found = memorisation(inputs.fake.features, inputs.real.extracted.features, held_out.extracted.features)
        return {
            "mem_fraction": found["memorised_fraction"],
            "mem_median_distance": found["median_generated"],
            "mem_median_heldout": found["median_heldout"],
        }
