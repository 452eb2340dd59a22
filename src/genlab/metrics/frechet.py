"""Fréchet distance between Gaussian fits of two feature sets (FID when the features come from Inception).

FID (Heusel et al. 2017) fits a Gaussian to each set of features and reports the squared 2-Wasserstein distance
between the two Gaussians,

    ||mu1 - mu2||² + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}).

The usual implementation takes ``scipy.linalg.sqrtm(S1 @ S2)``, which is a square root of a non-symmetric matrix:
it can leave imaginary parts, fail on singular covariances (fewer samples than dimensions) and needs ad-hoc
offsets. Here the trace term is computed from a symmetric positive semi-definite matrix with ``eigh`` instead, which
is stable, real and exact up to round-off (see :func:`frechet_distance`).
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.metrics.arrays import feature_tensor, to_numpy
from genlab.metrics.base import METRICS, Metric, MetricInputs

ROUND_OFF = 1e-6
"""Relative round-off a covariance may carry: asymmetry up to this times its largest entry, eigenvalues down to
minus this times its largest one. Anything beyond is not a covariance and is refused."""
FROM_FEATURES = "compute mu and sigma with feature_statistics(features)"


def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of ``features`` (N, D) in float64; the covariance is unbiased (ddof=1, as
    ``np.cov``), which is what the reference FID code stores."""
    f = feature_tensor(features, "features", min_rows=2).cpu().numpy()
    mu = f.mean(axis=0)
    centred = f - mu
    sigma = centred.T @ centred / (len(f) - 1)
    return mu, sigma


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; round-off negative eigenvalues count as 0."""
    w, v = np.linalg.eigh(sigma)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _check_gaussian(
    mu: np.ndarray | torch.Tensor | float, sigma: np.ndarray | torch.Tensor | float, which: int
) -> tuple[np.ndarray, np.ndarray]:
    """mu (D,) and the symmetrised sigma (D, D) as float64; scalars are taken as the 1-D case."""
    mu, sigma = np.atleast_1d(to_numpy(mu, f"mu{which}")), np.atleast_2d(to_numpy(sigma, f"sigma{which}"))
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise ValueError(
            f"mu{which} must have shape (D,) and sigma{which} shape (D, D), got {mu.shape} and {sigma.shape}; "
            "use feature_statistics(features) to compute them"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"mu{which} or sigma{which} contains NaN or inf values")
    if np.abs(sigma - sigma.T).max() > ROUND_OFF * np.abs(sigma).max():
        raise ValueError(f"sigma{which} is not symmetric, so it is no covariance matrix; {FROM_FEATURES}")
    return mu, (sigma + sigma.T) / 2


def _check_psd(sigma: np.ndarray, which: int) -> None:
    """Refuse a symmetric ``sigma`` with an eigenvalue below round-off: the distance formula would be meaningless."""
    eigenvalues = np.linalg.eigvalsh(sigma)
    if eigenvalues[0] < -ROUND_OFF * np.abs(eigenvalues).max():
        raise ValueError(
            f"sigma{which} is not positive semi-definite (smallest eigenvalue {eigenvalues[0]:.3g}), so it is no "
            f"covariance matrix; {FROM_FEATURES}"
        )


def frechet_distance(
    mu1: np.ndarray | torch.Tensor,
    sigma1: np.ndarray | torch.Tensor,
    mu2: np.ndarray | torch.Tensor,
    sigma2: np.ndarray | torch.Tensor,
) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    The trace term is computed as tr((S1^{1/2} S2 S1^{1/2})^{1/2}) rather than tr(sqrtm(S1 S2)). The two are
    equal: with A = S1^{1/2} and B = S1^{1/2} S2, S1 S2 = AB and S1^{1/2} S2 S1^{1/2} = BA, and AB and BA have the
    same non-zero eigenvalues (with multiplicity) even when S1 is singular. BA is symmetric PSD, so those
    eigenvalues are real and >= 0, and the trace of the principal square root is the sum of their square roots.
    Computing them with ``eigh`` on the symmetric BA needs no complex arithmetic and works for rank-deficient
    covariances (fewer samples than dimensions), where ``sqrtm(S1 S2)`` is ill-conditioned or does not exist. Tiny
    negative eigenvalues, which are pure round-off of a PSD matrix, are clipped to 0.

    The exact value is >= 0; a result a few ulps below 0 (identical inputs) is round-off and is clipped to 0. The
    covariances are symmetrised ((S + Sᵀ) / 2) first, which only removes round-off asymmetry; a covariance that is
    not symmetric positive semi-definite beyond round-off (:data:`ROUND_OFF`) raises ValueError, since clipping its
    negative eigenvalues would return a number for inputs that describe no Gaussian.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, 1)
    mu2, sigma2 = _check_gaussian(mu2, sigma2, 2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"the two Gaussians have different dimensions: {len(mu1)} and {len(mu2)}")
    _check_psd(sigma1, 1)
    _check_psd(sigma2, 2)
    return _gaussian_distance(mu1, sigma1, mu2, sigma2)


def _gaussian_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """:func:`frechet_distance` of checked inputs (same dimension, symmetric PSD covariances)."""
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def fid_from_features(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor) -> float:
    """Fréchet distance between Gaussian fits of ``real`` (N, D) and ``fake`` (M, D) features."""
    r = feature_tensor(real, "real", min_rows=2).cpu().numpy()
    f = feature_tensor(fake, "fake", min_rows=2).cpu().numpy()
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real and fake features have different dimensions: {r.shape[1]} and {f.shape[1]}")
    # Sample covariances are Gram matrices, PSD by construction: the eigenvalue checks of frechet_distance (two
    # more decompositions of D x D matrices, seconds at D = 2048) are skipped.
    return _gaussian_distance(*feature_statistics(r), *feature_statistics(f))


@METRICS.register("fid")
class FID(Metric):
    """Fréchet distance of the samples' features to the real reference's (lower is better)."""

    biased_below = 10_000
    label = "FID"

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        return {"fid": fid_from_features(inputs.real.extracted.features, inputs.fake.features)}
