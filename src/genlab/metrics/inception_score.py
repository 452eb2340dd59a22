"""Inception Score (Salimans et al. 2016) from a classifier's class probabilities.

IS = exp(E_x KL(p(y|x) || p(y))): high when each sample is classified confidently (peaked p(y|x)) and the samples
spread over the classes (flat marginal p(y)). It ranges from 1 (every sample gets the same prediction) to K, the
number of classes (confident and balanced). It looks only at generated samples, never at real ones.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from scipy.special import xlogy

from genlab.data.toy import MIXTURES
from genlab.errors import ConfigError
from genlab.metrics.arrays import to_numpy
from genlab.metrics.base import METRICS, Metric, MetricInputs

ROW_SUM_TOLERANCE = 1e-3
"""How far a row may sum from 1 and still count as probabilities (float16/float32 softmax round-off)."""


def _as_probabilities(probs: np.ndarray | torch.Tensor) -> np.ndarray:
    p = to_numpy(probs, "probs")
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"probs must have shape (N, K): N samples, K class probabilities, got shape {p.shape}")
    sums = p.sum(axis=1)
    if (p < 0).any() or np.abs(sums - 1).max() > ROW_SUM_TOLERANCE:
        raise ValueError(
            "probs must hold class probabilities (non-negative, each row summing to 1), but "
            f"min={p.min():.3g} and row sums range over [{sums.min():.4g}, {sums.max():.4g}]; "
            "these look like logits: pass torch.softmax(logits, dim=1)"
        )
    return p / sums[:, None]


def inception_score(probs: np.ndarray | torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """Mean and std of the Inception Score over ``splits`` consecutive chunks of ``probs`` (N, K).

    As in the original implementation (openai/improved-gan), chunk i holds rows [i N // splits, (i + 1) N // splits)
    and the marginal p(y) is taken within each chunk; the std is over chunks with ddof=0 (``np.std``). Rows are
    renormalised to sum to 1 exactly after validation, and 0 log 0 counts as 0 (a zero probability contributes
    nothing to the KL instead of a NaN).
    """
    p = _as_probabilities(probs)
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must be between 1 and the number of samples ({len(p)}), got {splits}")
    bounds = [i * len(p) // splits for i in range(splits + 1)]
    scores = []
    for lo, hi in itertools.pairwise(bounds):
        chunk = p[lo:hi]
        marginal = chunk.mean(axis=0, keepdims=True)
        kl = (xlogy(chunk, chunk) - xlogy(chunk, marginal)).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


@METRICS.register("is")
class InceptionScore(Metric):
    """Inception Score with the extractor's classes: mean and std over 10 splits (higher is better)."""

    def check(self, data_name: str, features: str) -> None:
        if features == "raw" or (features == "auto" and data_name in MIXTURES):
            raise ConfigError("eval.metrics: 'is' needs a classifier's probabilities; raw features have none")

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        mean, std = inception_score(inputs.fake.probabilities)
        return {"is": mean, "is_std": std}
