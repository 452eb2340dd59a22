"""The statistics of a study's index: each model's settings and their scores, its best setting, and the best score
as a function of the budget (Lucic et al. 2018, "Are GANs Created Equal?", their figure of FID against the number
of hyper-parameter samples).

A setting's score is the mean of the ranking metric's final value over its finished phase-1 seeds. The budget
curve answers "what would a search of k random settings have found?" by the bootstrap: for each k = 1..K (K the
model's settings with a score), draw k of the K scores with replacement, ``draws`` times, and take the best of each
draw; the curve is the mean of those bests and the band their 2.5 % and 97.5 % quantiles. With scores s_(1) <= ...
<= s_(K) and mode min, the exact mean of the best of k is sum_i s_(i) [((K-i+1)/K)^k - ((K-i)/K)^k], which the
bootstrap mean approaches as ``draws`` grows.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genlab.study.trials import DONE

DRAWS = 2000
"""Bootstrap draws per budget k."""
LEVEL = 0.95
"""Coverage of the band around the budget curve."""


def setting_key(values: dict[str, Any]) -> str:
    """A setting as a hashable key (its values as sorted JSON), the same for the same sampled values."""
    return json.dumps(values, sort_keys=True)


def setting_scores(rows: Sequence[dict[str, Any]], model: str) -> dict[str, list[float]]:
    """The final metric of every finished phase-1 trial of ``model`` by setting (``setting_key``), in the order
    the settings were planned; settings none of whose trials finished with a value are left out."""
    scores: dict[str, list[float]] = {}
    for row in rows:
        final = row["final"]
        if row["model"] == model and row["phase"] == 1 and row["status"] == DONE and final is not None:
            scores.setdefault(setting_key(row["values"]), []).append(final)
    return scores


def best_setting(scores: dict[str, list[float]], mode: str) -> str | None:
    """The key of the setting with the best mean score (the first planned on a tie); None without settings."""
    if not scores:
        return None
    sign = 1 if mode == "min" else -1
    return min(scores, key=lambda key: sign * statistics.fmean(scores[key]))


@dataclass(frozen=True)
class Budget:
    """The best score found with k = 1..K settings: bootstrap mean and band for each k."""

    ks: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]


def best_of_budget(
    scores: Sequence[float], mode: str, *, draws: int = DRAWS, seed: int = 0, level: float = LEVEL
) -> Budget:
    """The bootstrap of the best of k settings for k = 1..len(scores) (see the module's docstring); ``seed`` fixes
    the draws, so the same index gives the same curve."""
    if not scores:
        raise ValueError("the budget curve needs at least one scored setting")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be min or max, not {mode!r}")
    values = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    pick = np.min if mode == "min" else np.max
    ks, mean, low, high = [], [], [], []
    for k in range(1, len(values) + 1):
        best = pick(rng.choice(values, size=(draws, k), replace=True), axis=1)
        ks.append(k)
        mean.append(float(best.mean()))
        low.append(float(np.quantile(best, (1 - level) / 2)))
        high.append(float(np.quantile(best, (1 + level) / 2)))
    return Budget(ks, mean, low, high)
