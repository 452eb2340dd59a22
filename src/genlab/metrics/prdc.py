"""k-nearest-neighbour manifold metrics: precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem
et al. 2020).

FID folds quality and diversity into one number; these separate them. Each set's manifold is approximated by the
union of balls around its samples, each ball reaching the sample's k-th nearest neighbour in its own set (the sample
itself excluded). Precision: the fraction of fake samples inside the real manifold (quality). Recall: the fraction
of real samples inside the fake manifold (diversity). Density counts how many real balls contain each fake sample
(divided by k, so about 1 when the two sets match), which, unlike precision, is not inflated by real outliers with
huge balls; coverage is the fraction of real balls that contain at least one fake sample, which needs no fake
manifold, so fake outliers cannot inflate it.

Ball boundaries follow each metric's reference code: precision and recall use closed balls (a point exactly at
the radius is inside; ``<=`` in Kynkäänniemi et al.'s code), density and coverage open ones (``<`` in Naeem et al.'s
code). They differ only on exact ties, which independent continuous samples do not have, but copies do: a set
compared with itself has each ball's k-th neighbour exactly on its boundary, which gives density 1 with open balls
((k + 1) / k with closed ones); and with repeated points a radius can be 0, so an open ball holds nothing.

Ties are decided up to round-off, so that the answer does not hinge on the last bits of two separately computed
distances: squared distances within ``SLACK * scale²`` of a squared radius count as equal to it (scale: the largest
norm of a centred sample). Matrix-product distances are off by at most about D * eps * scale² in the square, far
below the slack; genuine differences that small would be meaningless anyway.

Distances are computed in float64 with ``torch.cdist`` in row blocks of at most :data:`BLOCK` entries, on the
device of ``real`` (``fake`` is moved there), after centring both sets on the real mean (which shrinks the
round-off), so 10,000 x 10,000 comparisons never hold a full distance matrix.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch

from genlab.metrics.arrays import feature_tensor
from genlab.metrics.base import METRICS, Metric, MetricInputs

BLOCK = 2**23
"""Entries of one block of the distance matrix (64 MiB in float64)."""

SLACK = 1e-11
"""Squared distances within ``SLACK * scale²`` of a squared radius are ties (round-off), see the module docstring."""


class _Sets(NamedTuple):
    real: torch.Tensor
    fake: torch.Tensor
    tie: torch.Tensor
    """Round-off slack on squared distances."""


def _prepare(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, k: int) -> _Sets:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    r = feature_tensor(real, "real")
    f = feature_tensor(fake, "fake", device=r.device)
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real and fake features have different dimensions: {r.shape[1]} and {f.shape[1]}")
    centre = r.mean(dim=0)
    r, f = r - centre, f - centre
    scale2 = torch.maximum((r * r).sum(dim=1).max(), (f * f).sum(dim=1).max())
    return _Sets(r, f, SLACK * scale2)


def _closed(radii: torch.Tensor, tie: torch.Tensor) -> torch.Tensor:
    """Thresholds t with d <= t  <=>  d² <= r² + tie: inside the closed ball, ties included."""
    return (radii * radii + tie).sqrt()


def _open(radii: torch.Tensor, tie: torch.Tensor) -> torch.Tensor:
    """Thresholds t with d < t  <=>  d² < r² - tie: inside the open ball, ties excluded."""
    return (radii * radii - tie).clamp(min=0).sqrt()


def _blocks(queries: torch.Tensor, reference: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
    """(first row, distances from a block of query rows to every reference row)."""
    rows = max(1, BLOCK // len(reference))
    for start in range(0, len(queries), rows):
        yield start, torch.cdist(queries[start : start + rows], reference)


def _smallest(d: torch.Tensor, dim: int, count: int) -> torch.Tensor:
    """The ``count`` smallest entries of ``d`` along ``dim``, one row per index of the other dimension."""
    values = d.topk(min(count, d.shape[dim]), dim=dim, largest=False).values
    return values if dim == 1 else values.T


def _merge(best: torch.Tensor | None, new: torch.Tensor, count: int) -> torch.Tensor:
    return new if best is None else _smallest(torch.cat([best, new], dim=1), 1, count)


def _kth_neighbour_radii(x: torch.Tensor, k: int, name: str = "features") -> torch.Tensor:
    """Distance (N,) from each row of ``x`` to its k-th nearest other row of ``x``.

    A duplicate of a sample counts as a neighbour at distance 0; only the sample itself is left out (its own
    distance is set to exactly 0 and the (k+1)-th smallest distance taken). The distance matrix is symmetric, so
    only its upper triangle of square blocks is computed, each block serving its rows and (transposed) its columns.
    """
    if k > len(x) - 1:
        raise ValueError(f"k={k} needs at least k + 1 = {k + 1} samples in {name}, got {len(x)}; lower k")
    size = max(k + 1, math.isqrt(BLOCK))
    starts = range(0, len(x), size)
    nearest: list[torch.Tensor | None] = [None] * len(starts)
    for a, i in enumerate(starts):
        for b, j in enumerate(starts[a:], start=a):
            d = torch.cdist(x[i : i + size], x[j : j + size])
            if a == b:
                d.fill_diagonal_(0.0)
            else:
                nearest[b] = _merge(nearest[b], _smallest(d, 0, k + 1), k + 1)
            nearest[a] = _merge(nearest[a], _smallest(d, 1, k + 1), k + 1)
    return torch.cat(nearest)[:, k]


def precision_recall(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` (M, D) against ``real`` (N, D).

    precision: fraction of fake samples within the (closed) k-NN ball of some real sample; recall: fraction of real
    samples within the k-NN ball of some fake sample. Both in [0, 1], higher is better. Each set needs more than k
    samples.
    """
    r, f, tie = _prepare(real, fake, k)
    real_threshold = _closed(_kth_neighbour_radii(r, k, "real"), tie)
    fake_threshold = _closed(_kth_neighbour_radii(f, k, "fake"), tie)
    fake_inside = []
    real_inside = torch.zeros(len(r), dtype=torch.bool, device=r.device)
    for start, d in _blocks(f, r):
        fake_inside.append((d <= real_threshold[None, :]).any(dim=1))
        real_inside |= (d <= fake_threshold[start : start + len(d), None]).any(dim=0)
    return {
        "precision": torch.cat(fake_inside).double().mean().item(),
        "recall": real_inside.double().mean().item(),
    }


def density_coverage(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, k: int = 5) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020) of ``fake`` (M, D) against ``real`` (N, D), N > k.

    density = (1 / kM) * sum over fake samples of the number of (open) real k-NN balls containing it: about 1 when
    fake matches real, lower when fakes leave the real support; it is not a fraction and can exceed 1 (fakes where
    many real balls overlap). coverage = fraction of real samples whose k-NN ball contains at least one fake
    sample, in [0, 1]. Only real balls are used, so fake outliers affect neither.
    """
    r, f, tie = _prepare(real, fake, k)
    real_threshold = _open(_kth_neighbour_radii(r, k, "real"), tie)
    balls_containing = 0
    nearest_fake = torch.full((len(r),), torch.inf, dtype=torch.float64, device=r.device)
    for _, d in _blocks(f, r):
        balls_containing += int(torch.count_nonzero(d < real_threshold[None, :]))
        nearest_fake = torch.minimum(nearest_fake, d.min(dim=0).values)
    return {
        "density": balls_containing / (k * len(f)),
        "coverage": (nearest_fake < real_threshold).double().mean().item(),
    }


def realism_scores(
    real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, k: int = 3, keep: float = 0.5
) -> np.ndarray:
    """Realism score of each fake sample (Kynkäänniemi et al. 2019, section 5): how far inside the real manifold
    it lies, a per-image reading of precision.

    R(φ_g) = max over real φ_r of ‖φ_r − NN_k(φ_r)‖ / ‖φ_g − φ_r‖: at least 1 exactly when φ_g lies in the
    (closed) k-NN ball of some real sample, larger the deeper inside, below 1 outside every ball (an exact copy of
    a real sample scores infinity). As in the paper, only the ``keep`` fraction of real balls with the smallest
    radii is used (0.5: the half with the largest radii, which real outliers inflate, is dropped); ``keep=1`` uses
    them all, and then mean(R ≥ 1) is :func:`precision_recall`'s precision. Returns float64 scores (M,).
    """
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1], got {keep!r}")
    r, f, tie = _prepare(real, fake, k)
    radii = _kth_neighbour_radii(r, k, "real")
    kept = radii.argsort()[: max(1, math.ceil(keep * len(radii)))]
    r, threshold = r[kept], _closed(radii[kept], tie)
    scores = [(threshold[None, :] / d).max(dim=1).values for _, d in _blocks(f, r)]
    return torch.cat(scores).cpu().numpy()


@METRICS.register("pr")
class PrecisionRecall(Metric):
    """Precision and recall of k-NN manifolds, k = 3 (higher is better)."""

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        return precision_recall(inputs.real.extracted.features, inputs.fake.features, k=3)


@METRICS.register("dc")
class DensityCoverage(Metric):
    """Density and coverage, k = 5 (higher is better)."""

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        return density_coverage(inputs.real.extracted.features, inputs.fake.features, k=5)
