"""Kernel Inception Distance (Bińkowski et al. 2018): an unbiased MMD² between two feature sets.

Unlike FID, KID makes no Gaussian assumption and its estimator is unbiased, so its value does not drift with the
number of samples, and the spread over random subsets gives an error bar. The kernel is the cubic polynomial
k(x, y) = (xᵀy / d + 1)³ of the original paper and of the common implementations (torch-fidelity, clean-fid),
so values are comparable with theirs (up to which random subsets are drawn).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.metrics.arrays import feature_tensor
from genlab.metrics.base import METRICS, Metric, MetricInputs

BLOCK = 2**20
"""Kernel-matrix entries per batch of subsets (8 MiB of float64): small subsets are batched, since thousands of
small tensor operations crawl when the CPU is shared; subsets of 1000 or more go one at a time."""


def _kernel_sums(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """For batches x (S, m, d) and y (S, n, d): the sums over all pairs of k(x_i, y_j) = (x_iᵀy_j / d + 1)³, (S,)."""
    one = torch.ones((), dtype=x.dtype, device=x.device)
    if len(x) == 1:  # a plain matrix product: on the CPU faster than a batch of one
        k = torch.addmm(one, x[0], y[0].T, alpha=1.0 / x.shape[2])[None]
    else:
        k = torch.baddbmm(one, x, y.transpose(1, 2), alpha=1.0 / x.shape[2])
    return k.pow_(3).sum(dim=(1, 2))


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD² between equal-size samples, batched: x, y (S, m, d) -> (S,).

    Gretton et al.'s MMD²_u: within-set kernel sums leave out the diagonal k(x_i, x_i) and are divided by m(m - 1);
    the cross term keeps all m² pairs. This is torch-fidelity's ``mmd_est='unbiased'`` and clean-fid's formula.
    """
    m, d = x.shape[1], x.shape[2]

    def off_diagonal_sum(a: torch.Tensor) -> torch.Tensor:
        return _kernel_sums(a, a) - ((a * a).sum(dim=2) / d + 1).pow(3).sum(dim=1)

    return (off_diagonal_sum(x) + off_diagonal_sum(y)) / (m * (m - 1)) - 2 * _kernel_sums(x, y) / (m * m)


def kid(
    real: np.ndarray | torch.Tensor,
    fake: np.ndarray | torch.Tensor,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and standard deviation of the unbiased MMD² over ``subsets`` random subsets of each set.

    Each subset draws ``subset_size`` samples without replacement from ``real`` (N, D) and, independently, from
    ``fake`` (M, D); ``subset_size`` is clipped to min(N, M) so small sets still give a value (with fewer distinct
    subsets). The std is the population std over subsets (ddof=0, as torch-fidelity's ``kid_subset_std``); it
    measures the subset-to-subset spread, not the standard error of the mean. The std is NaN when there is no
    spread to measure: a single subset, or subsets that each hold the whole of both sets (then every subset gives
    the same value, and a std of round-off would pass for an error bar). Subsets are drawn with a numpy generator
    seeded by ``seed``, so the result is reproducible and the same on every device; tensors are computed on their
    own device in float64.
    """
    if subsets < 1 or subset_size < 2:
        raise ValueError(f"need subsets >= 1 and subset_size >= 2, got subsets={subsets}, subset_size={subset_size}")
    r = feature_tensor(real, "real", min_rows=2)
    f = feature_tensor(fake, "fake", min_rows=2).to(r.device)
    if r.shape[1] != f.shape[1]:
        raise ValueError(f"real and fake features have different dimensions: {r.shape[1]} and {f.shape[1]}")
    m = min(subset_size, len(r), len(f))
    rng = np.random.default_rng(seed)
    index_r = np.stack([rng.choice(len(r), m, replace=False) for _ in range(subsets)])
    index_f = np.stack([rng.choice(len(f), m, replace=False) for _ in range(subsets)])
    batch = max(1, BLOCK // (m * m))
    mmd2 = torch.cat(
        [
            _mmd2_unbiased(
                r[torch.as_tensor(index_r[start : start + batch], device=r.device)],
                f[torch.as_tensor(index_f[start : start + batch], device=r.device)],
            )
            for start in range(0, subsets, batch)
        ]
    )
    no_spread = subsets == 1 or m == len(r) == len(f)
    return float(mmd2.mean()), math.nan if no_spread else float(mmd2.std(correction=0))


@METRICS.register("kid")
class KID(Metric):
    """Kernel inception distance: mean and std over ``eval.kid_subsets`` subsets (lower is better)."""

    biased_below = 10_000
    label = "KID"

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        cfg = inputs.cfg
        mean, std = kid(
            inputs.real.extracted.features,
            inputs.fake.features,
            subsets=cfg.kid_subsets,
            subset_size=cfg.kid_subset_size,
        )
        return {"kid": mean, "kid_std": std}

    def note(self, values: dict[str, float]) -> str | None:
        if math.isnan(values["kid_std"]):
            return "kid_std is NaN: every KID subset was the same (all samples, or a single one), so no error bar"
        return None
