"""Why WGAN: KL, JS and TV cannot tell how far apart two disjoint distributions are, W1 can (Arjovsky et al. 2017).

P is uniform on the vertical segment {0} × [0, 1] and Q the same segment moved to x = θ. For every θ ≠ 0 the
supports are disjoint, so KL(P‖Q) = inf, JS(P, Q) = ln 2 (the JS distance sqrt(ln 2)) and the total variation
distance TV(P, Q) = 1 whatever θ is: their gradient in θ is zero (or undefined), which is what stalls a GAN whose
generator's support misses the data's. W1(P, Q) = |θ| instead, a V that points the way to θ = 0.

Nothing is hard-coded: both segments are represented by the same n evenly spaced points (x = 0 or θ, y = (k + ½)/n).
For KL and JS the points are binned on a common 2-D grid of cells, whose columns are centred on 0 and on every θ
of the sweep, and the cell histograms go to :func:`genlab.metrics.kl_divergence`, :func:`js_divergence`,
:func:`js_distance` and :func:`total_variation`; W1 is
:func:`genlab.metrics.emd` on the two point sets.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genlab.lab.base import LABS, LabResult, save_figure
from genlab.metrics import emd, js_distance, js_divergence, kl_divergence, total_variation

POINTS = 200
"""Points per segment (the W1 assignment problem is POINTS × POINTS)."""
Y_CELLS = 20
"""Rows of the histogram grid over [0, 1]; POINTS is a multiple, so each row gets the same mass."""


def segment(theta: float, n: int) -> np.ndarray:
    """n points (n, 2) evenly spaced on the segment {θ} × [0, 1], at the midpoints y = (k + ½)/n."""
    y = (np.arange(n) + 0.5) / n
    return np.stack([np.full(n, float(theta)), y], axis=1)


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges halfway between sorted distinct centres, with outer cells as wide as their neighbours."""
    centres = np.unique(centres)
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - middle[0]], middle, [2 * centres[-1] - middle[-1]]])


def cell_histogram(points: np.ndarray, x_centres: np.ndarray, y_cells: int) -> np.ndarray:
    """Probability vector over the cells of the grid (columns centred on ``x_centres``, ``y_cells`` rows in [0, 1])."""
    counts, _, _ = np.histogram2d(
        points[:, 0], points[:, 1], bins=[_edges(x_centres), np.linspace(0.0, 1.0, y_cells + 1)]
    )
    return counts.ravel() / len(points)


def theta_sweep(thetas: np.ndarray, n: int = POINTS, y_cells: int = Y_CELLS) -> dict[str, list[float]]:
    """KL(P‖Q), JS(P, Q), the JS distance, TV(P, Q) and W1(P, Q) for each θ, from genlab's metric functions (see
    the module docstring)."""
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim != 1 or len(thetas) == 0 or n < 1 or y_cells < 1:
        raise ValueError(f"need a non-empty 1-D θ grid, n >= 1 and y_cells >= 1; got {thetas.shape}, {n}, {y_cells}")
    x_centres = np.union1d(thetas, [0.0])
    p_points = segment(0.0, n)
    p = cell_histogram(p_points, x_centres, y_cells)
    sweep: dict[str, list[float]] = {"kl": [], "js": [], "js_distance": [], "tv": [], "w1": []}
    for theta in thetas:
        q_points = segment(theta, n)
        q = cell_histogram(q_points, x_centres, y_cells)
        sweep["kl"].append(kl_divergence(p, q))
        sweep["js"].append(js_divergence(p, q))
        sweep["js_distance"].append(js_distance(p, q))
        sweep["tv"].append(total_variation(p, q))
        sweep["w1"].append(emd(p_points, q_points))
    return sweep


def _plot(thetas: np.ndarray, sweep: dict[str, list[float]], out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7, 4.5))
    kl = np.asarray(sweep["kl"])
    top = 1.25
    infinite = np.isinf(kl)
    axis.plot(thetas[infinite], np.full(infinite.sum(), top), "^", color="C0", label="KL(P‖Q) = ∞ (drawn at the top)")
    axis.plot(thetas[~infinite], kl[~infinite], "o", color="C0", mfc="none", label="KL(P‖Q), finite")
    # JS and W1 as markers with lines only between θ ≠ 0 neighbours on each side: JS jumps at 0, it does not slope.
    for side in (thetas < 0, thetas > 0):
        axis.plot(thetas[side], np.asarray(sweep["js"])[side], "-", color="C1")
    axis.plot(thetas, sweep["js"], "s", color="C1", ms=4, label="JS(P, Q)")
    axis.axhline(math.log(2), color="C1", ls=":", lw=1)
    axis.annotate("ln 2", (thetas[0], math.log(2)), xytext=(0, 5), textcoords="offset points", color="C1")
    for key, marker, colour, label in (("js_distance", "v", "C4", "JS distance √JS"), ("tv", "x", "C3", "TV(P, Q)")):
        for side in (thetas < 0, thetas > 0):
            axis.plot(thetas[side], np.asarray(sweep[key])[side], "-", color=colour, lw=1)
        axis.plot(thetas, sweep[key], marker, color=colour, ms=4, label=label)
    axis.annotate("∞", (thetas[-1], top), xytext=(6, -5), textcoords="offset points", color="C0", fontsize=12)
    axis.plot(thetas, sweep["w1"], "d-", color="C2", ms=4, label="W1(P, Q) = |θ|")
    axis.set_ylim(-0.05, top + 0.1)
    axis.set_xlabel("θ (Q is the segment at x = θ, P at x = 0)")
    axis.set_ylabel("nats / distance")
    axis.set_title("Two parallel segments: only W1 sees how far apart they are", fontsize=10)
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8)
    return save_figure(fig, out / "divergences.png")


@LABS.register("divergences")
def divergences(out: Path, seed: int) -> LabResult:
    """KL, JS, the JS distance, TV and W1 of the two segments for θ = -1, -0.9, ..., 1 (deterministic: ``seed`` is
    unused).

    The JSON lists ``theta``, ``js``, ``js_distance``, ``tv``, ``w1`` as floats and ``kl`` with infinite entries
    written as the string ``"inf"`` (strict JSON has no infinity).
    """
    thetas = np.arange(-10, 11) / 10
    sweep = theta_sweep(thetas)
    figure = _plot(thetas, sweep, out)
    numbers = {
        "theta": thetas.tolist(),
        "kl": ["inf" if math.isinf(v) else v for v in sweep["kl"]],
        "js": sweep["js"],
        "js_distance": sweep["js_distance"],
        "tv": sweep["tv"],
        "w1": sweep["w1"],
        "points_per_segment": POINTS,
        "y_cells": Y_CELLS,
    }
    return LabResult(numbers, [figure])
