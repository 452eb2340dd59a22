"""The figures of a study page (``genlab study report``), drawn from plain numbers so that they know nothing of the
study index: the spread of a metric over seeds, best-metric-against-budget curves with their bands, and a
precision-recall scatter of every trial.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import genlab.viz.figures  # noqa: F401  (the Agg backend: no display needed)

Curve = tuple[Sequence[int], Sequence[float], Sequence[float], Sequence[float]]
"""A budget curve: k = 1..K, the mean best score and the band's lower and upper edges at each k."""


def _label(text: str) -> str:
    """A name as literal text in a legend or tick (a "$" would start matplotlib's mathtext)."""
    return text.replace("$", r"\$")


def seed_spread(groups: dict[str, Sequence[float]], metric: str, per_row: int = 14) -> Any:
    """A box per model with every seed's value on top of it as a dot (jittered sideways), so that a handful of
    seeds is seen as points, not only as quartiles. More than ``per_row`` models wrap onto further rows (the 2-D
    study has 28), sharing the metric's axis, so that the picture stays readable at the page's width."""
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(groups)
    rows = [names[i : i + per_row] for i in range(0, len(names), per_row)] or [[]]
    width = max(4.0, 0.9 * len(rows[0]) + 2)
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, 3.4 * len(rows)), sharey=True, squeeze=False)
    jitter = np.random.default_rng(0)
    for ax, row in zip(axes[:, 0], rows, strict=True):
        ax.boxplot([list(groups[n]) for n in row], widths=0.5, showfliers=False)
        for position, name in enumerate(row, 1):
            values = list(groups[name])
            ax.scatter(position + jitter.uniform(-0.12, 0.12, len(values)), values, s=14, color="C1", zorder=3)
        ax.set_xticks(range(1, len(row) + 1), [_label(n) for n in row], rotation=30, ha="right", fontsize=8)
        ax.set_xlim(0.5, per_row + 0.5 if len(rows) > 1 else len(row) + 0.5)  # wrapped rows share the box width
        ax.set_ylabel(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_title(f"{metric} over seeds at each model's best setting", fontsize=10)
    fig.tight_layout()
    return fig


def budget_curves(curves: dict[str, Curve], metric: str, level: float) -> Any:
    """Lucic et al.'s figure: each model's best score against the number of settings tried, its band shaded."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for name, (ks, mean, low, high) in curves.items():
        (line,) = ax.plot(ks, mean, marker="o", markersize=3, linewidth=1.3, label=_label(name))
        ax.fill_between(ks, low, high, color=line.get_color(), alpha=0.18, linewidth=0)
    most = max(len(ks) for ks, *_ in curves.values())
    ax.set_xlim(0.5, most + 0.5)
    ax.set_xticks(range(1, most + 1, max(1, most // 10)))  # whole budgets only
    ax.set_xlabel("budget: hyper-parameter settings tried (k)")
    ax.set_ylabel(f"best {metric}")
    ax.set_title(f"best {metric} against budget ({100 * level:.0f} % bootstrap band)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def precision_recall(points: dict[str, tuple[Sequence[float], Sequence[float]]]) -> Any:
    """Every trial as a point (recall, precision), one colour per model: quality against coverage."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    for name, (precision, recall) in points.items():
        ax.scatter(recall, precision, s=18, label=_label(name), alpha=0.8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("precision against recall, every trial", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
