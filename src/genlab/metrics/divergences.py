"""Divergences and transport distances between distributions, the quantities GAN objectives minimise.

KL, JS, the JS distance and the total variation distance compare probability vectors on a shared discrete support;
they see only how mass overlaps, so two distributions with disjoint supports are at KL = inf, JS = ln 2 and
TV = 1 however far apart they are. The earth mover's
(Wasserstein-1) distance also sees how far the mass has to move, which is why WGAN uses it: :func:`wasserstein1`
for 1-D distributions, :func:`emd` for equal-size point sets in any dimension.

All logarithms are natural (nats).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.special import rel_entr
from scipy.stats import wasserstein_distance

from genlab.metrics.arrays import to_numpy


def _distribution(p: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    """``p`` as a 1-D float64 probability vector: non-negative entries, normalised to sum 1."""
    a = to_numpy(p, name)
    if a.ndim != 1 or len(a) == 0:
        raise ValueError(f"{name} must be a 1-D vector of probabilities (or counts), got shape {a.shape}")
    if (a < 0).any():
        raise ValueError(f"{name} has negative entries (min {a.min():.3g}); pass probabilities or counts, not logits")
    total = a.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to 0; it needs some positive mass")
    return a / total


def _pair(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    p, q = _distribution(p, "p"), _distribution(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must be on the same support, got lengths {len(p)} and {len(q)}")
    return p, q


def kl_divergence(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """KL(p || q) = sum_i p_i ln(p_i / q_i) in nats for discrete distributions on the same support.

    ``p`` and ``q`` must be non-negative; each is divided by its sum, so counts (histograms) work as well as
    probabilities. Terms with p_i = 0 are 0 (0 ln 0 = 0); the result is inf when p has mass where q has none.
    """
    p, q = _pair(p, q)
    return float(rel_entr(p, q).sum())


def js_divergence(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """Jensen-Shannon divergence (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2, in nats.

    Inputs are normalised as in :func:`kl_divergence`. It is symmetric, always finite and at most ln 2, reached
    exactly when the supports are disjoint; round-off above ln 2 or below 0 is clipped.
    """
    p, q = _pair(p, q)
    m = (p + q) / 2
    value = (rel_entr(p, m).sum() + rel_entr(q, m).sum()) / 2
    return float(min(max(value, 0.0), math.log(2)))


def js_distance(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """The Jensen-Shannon distance sqrt(JS(p, q)) in sqrt-nats: unlike the divergence, a metric (it obeys the
    triangle inequality, seed 001), so distances between several models can be compared and added. At most
    sqrt(ln 2), for disjoint supports."""
    return math.sqrt(js_divergence(p, q))


def total_variation(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """Total variation distance sup_A |p(A) - q(A)| = (1/2) sum_i |p_i - q_i|, in [0, 1].

    The largest difference in probability the two distributions give to any one event (the best set A is where
    p > q); 1 exactly when the supports are disjoint. Inputs are normalised as in :func:`kl_divergence`; Pinsker's
    inequality bounds it by sqrt(KL / 2).
    """
    p, q = _pair(p, q)
    return float(min(np.abs(p - q).sum() / 2, 1.0))


def _weights(w: np.ndarray | torch.Tensor | None, values: np.ndarray, name: str) -> np.ndarray | None:
    if w is None:
        return None
    w = to_numpy(w, name)
    if w.shape != values.shape:
        raise ValueError(f"{name} must have one weight per point, got {w.shape} for {values.shape} points")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"{name} must be non-negative with a positive sum")
    return w


def wasserstein1(
    u: np.ndarray | torch.Tensor,
    v: np.ndarray | torch.Tensor,
    u_weights: np.ndarray | torch.Tensor | None = None,
    v_weights: np.ndarray | torch.Tensor | None = None,
) -> float:
    """Exact 1-D earth mover's distance between two distributions on the real line.

    ``u`` and ``v`` are samples (each with equal weight) or support points with ``u_weights`` / ``v_weights``
    (non-negative, normalised by their sums); the sets may differ in size. Computed by
    ``scipy.stats.wasserstein_distance``, i.e. the integral of |F_u - F_v| over the line.
    """
    u, v = to_numpy(u, "u"), to_numpy(v, "v")
    for name, a in (("u", u), ("v", v)):
        if a.ndim != 1 or len(a) == 0:
            raise ValueError(
                f"{name} must be a non-empty 1-D vector of points, got shape {a.shape}; for points in "
                "several dimensions use emd()"
            )
    return float(wasserstein_distance(u, v, _weights(u_weights, u, "u_weights"), _weights(v_weights, v, "v_weights")))


def _is_probability_vector(a: np.ndarray) -> bool:
    return a.ndim == 1 and len(a) > 1 and bool((a >= 0).all()) and abs(a.sum() - 1.0) < 1e-9


def emd(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Earth mover's distance between two equal-size point sets x (N, D) and y (N, D), uniform weights.

    With N points of mass 1/N on each side, an optimal transport plan can be taken to be a permutation (the
    extreme points of the transport polytope are permutation matrices, Birkhoff-von Neumann), so the EMD is the
    mean Euclidean distance of the optimal one-to-one assignment, solved exactly by
    ``scipy.optimize.linear_sum_assignment``. 1-D inputs are taken as N points on the line. The solver is O(N³):
    fine up to a few thousand points.

    Two 1-D inputs that are both probability vectors (non-negative, summing to 1) are refused: they are almost
    surely histograms on a shared support, whose distance is ``wasserstein1(support, support, p, q)``, while as
    point sets two impulses at different places would be at distance 0. Pass (N, 1) columns to mean points.
    """
    x, y = to_numpy(x, "x"), to_numpy(y, "y")
    if all(_is_probability_vector(a) for a in (x, y)):
        raise ValueError(
            "x and y look like histograms (1-D, non-negative, each summing to 1), but emd takes point sets; for "
            "distributions on a shared support use wasserstein1(support, support, x, y), for points pass (N, 1) "
            "columns"
        )
    x, y = (a[:, None] if a.ndim == 1 else a for a in (x, y))
    if x.ndim != 2 or y.ndim != 2 or len(x) == 0 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be point sets (N, D) of the same dimension D, got {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(
            f"emd needs equal-size sets (uniform weights make the optimal plan a one-to-one matching), got "
            f"{len(x)} and {len(y)} points; subsample the larger set, or use wasserstein1 with weights in 1-D"
        )
    cost = cdist(x, y)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())
