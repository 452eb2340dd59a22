"""The optimal discriminator: with G frozen, D trained by binary cross-entropy tends to p_data / (p_data + p_g).

This is the first step of the GAN proof (Goodfellow et al. 2014, Proposition 1): for fixed G the integrand
p_data(x) log D(x) + p_g(x) log(1 - D(x)) is maximised pointwise by D*(x) = p_data(x) / (p_data(x) + p_g(x)).
Here both densities are known in closed form in 1-D, so a small MLP trained on fresh samples of each can be
compared with D* directly. p_data is a two-component Gaussian mixture and p_g a single broad Gaussian between
its modes, so D* is not monotone: it rises over each mode and dips where p_g dominates (the middle and tails).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from genlab.lab.base import LABS, LabResult, mlp_1d, save_figure, train_frozen_d
from genlab.objectives.minimax import Minimax

DATA_MEANS = (-1.5, 1.5)
DATA_STD = 0.5
GEN_MEAN, GEN_STD = 0.0, 1.2
SUPPORT_FRACTION = 1e-2
"""The gap is measured where max(p_data, p_g) >= SUPPORT_FRACTION times its maximum over the line: elsewhere D
sees (almost) no samples, so nothing constrains it and D* is a ratio of two negligible numbers."""


def p_data(x: np.ndarray) -> np.ndarray:
    """Density of 0.5 N(-1.5, 0.5²) + 0.5 N(1.5, 0.5²)."""
    return sum(0.5 * norm.pdf(x, mean, DATA_STD) for mean in DATA_MEANS)


def p_g(x: np.ndarray) -> np.ndarray:
    """Density of the frozen generator, N(0, 1.2²)."""
    return norm.pdf(x, GEN_MEAN, GEN_STD)


def optimal_discriminator(x: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); p_g > 0 everywhere, so the ratio is always defined."""
    real, fake = p_data(x), p_g(x)
    return real / (real + fake)


def _sample_data(n: int, generator: torch.Generator) -> torch.Tensor:
    means = torch.tensor(DATA_MEANS)[torch.randint(len(DATA_MEANS), (n,), generator=generator)]
    return (means + DATA_STD * torch.randn(n, generator=generator))[:, None]


def _sample_g(n: int, generator: torch.Generator) -> torch.Tensor:
    return (GEN_MEAN + GEN_STD * torch.randn(n, generator=generator))[:, None]


def train_discriminator(steps: int, seed: int = 0, batch: int = 1024, lr: float = 1e-2) -> tuple[nn.Module, float]:
    """A 1→64→64→1 MLP trained for ``steps`` Adam steps on fresh batches of each distribution; also its last loss.

    The loss is genlab's ``minimax`` D loss, (BCE(D(real), 1) + BCE(D(fake), 0)) / 2 on logits. The learning rate
    decays to zero (cosine) so the final D sits at the optimum rather than jittering around it with the minibatch
    noise. ``steps=0`` returns the untrained network (loss NaN).
    """
    if steps < 0 or batch < 1:
        raise ValueError(f"steps must be >= 0 and batch >= 1, got steps={steps}, batch={batch}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = mlp_1d()
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    loss = train_frozen_d(
        net,
        Minimax(),
        lambda: _sample_data(batch, generator),
        lambda: _sample_g(batch, generator),
        steps,
        optimiser,
        torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(steps, 1)),
    )
    return net, loss


@dataclass
class GapReport:
    grid: np.ndarray
    d: np.ndarray
    d_star: np.ndarray
    support: np.ndarray
    """Boolean mask of the grid points where the gap is measured (see :data:`SUPPORT_FRACTION`)."""

    @property
    def gap(self) -> np.ndarray:
        return np.abs(self.d - self.d_star)[self.support]

    def numbers(self) -> dict[str, float]:
        inside = self.grid[self.support]
        return {
            "max_gap": float(self.gap.max()),
            "mean_gap": float(self.gap.mean()),
            "gap_range": [float(inside.min()), float(inside.max())],
        }


def measure_gap(net: nn.Module, lo: float = -6.0, hi: float = 6.0, points: int = 1201) -> GapReport:
    """D and D* on a grid over [lo, hi], with the mask of the region where either density is non-negligible."""
    grid = np.linspace(lo, hi, points)
    with torch.no_grad():
        d = torch.sigmoid(net(torch.as_tensor(grid, dtype=torch.float32)[:, None]))[:, 0].double().numpy()
    density = np.maximum(p_data(grid), p_g(grid))
    return GapReport(grid, d, optimal_discriminator(grid), density >= SUPPORT_FRACTION * density.max())


def optimal_loss() -> float:
    """The smallest value of the minimax D loss, ln 2 - JS(p_data, p_g), by numerical integration.

    genlab's objectives average the two cross-entropy terms, so at D = D* the loss is
    -(E_data log D* + E_g log(1 - D*)) / 2; integrated on a fine grid (trapezoid rule) so the trained loss can be
    compared with its floor.
    """
    x = np.linspace(-10, 10, 40001)
    real, fake, d_star = p_data(x), p_g(x), optimal_discriminator(x)
    integrand = -(real * np.log(d_star) + fake * np.log1p(-d_star)) / 2
    return float(np.trapezoid(integrand, x))


def _plot(report: GapReport, out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, height_ratios=[1, 1.3])
    x = report.grid
    top.plot(x, p_data(x), label="p_data: 0.5 N(-1.5, 0.5²) + 0.5 N(1.5, 0.5²)")
    top.plot(x, p_g(x), label="p_g: N(0, 1.2²), frozen")
    top.set_ylabel("density")
    top.legend(loc="upper right", fontsize=8)
    bottom.plot(x, report.d_star, "k--", label="D*(x) = p_data / (p_data + p_g)")
    bottom.plot(x, report.d, color="C3", alpha=0.8, label="trained D(x)")
    lo, hi = x[report.support].min(), x[report.support].max()
    for axis in (top, bottom):
        axis.axvspan(x[0], lo, color="0.9")
        axis.axvspan(hi, x[-1], color="0.9")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_xlabel("x (shaded: negligible density, gap not measured)")
    bottom.set_ylabel("D(x)")
    bottom.set_title(f"max |D - D*| = {report.gap.max():.3f} on [{lo:.2f}, {hi:.2f}]", fontsize=10)
    bottom.legend(loc="lower right", fontsize=8)
    return save_figure(fig, out / "optimal-d.png")


@LABS.register("optimal-d")
def optimal_d(out: Path, seed: int) -> LabResult:
    """Train D with G frozen and compare it with D*; the headline number is ``max_gap`` (issue: below 0.05).

    ``max_gap`` and ``mean_gap`` are max and mean of |D(x) - D*(x)| over the grid points of [-6, 6] (spacing 0.01)
    where max(p_data(x), p_g(x)) >= 1e-2 times that function's maximum; ``gap_range`` is the interval they cover.
    """
    steps, batch = 2000, 1024
    net, loss = train_discriminator(steps, seed, batch)
    report = measure_gap(net)
    figure = _plot(report, out)
    numbers = {**report.numbers(), "steps": steps, "batch": batch, "final_loss": loss, "optimal_loss": optimal_loss()}
    return LabResult(numbers, [figure])
