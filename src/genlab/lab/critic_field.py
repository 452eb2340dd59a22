"""Why the WGAN critic still teaches G when a GAN discriminator has saturated (WGAN paper, Figure 2).

Real data N(+2, 0.3²) and frozen fakes N(-2, 0.3²) barely overlap, so a binary classifier can separate them
perfectly: trained by cross-entropy, its logit l(x) at the fakes runs off towards -∞. The minimax generator loss
log(1 - D(x)) = -softplus(l(x)) then has gradient -σ(l(x)) l'(x), which vanishes exponentially in the logit: G
gets no signal exactly when it is worst. A WGAN-GP critic f trained on the same two batches estimates the
Wasserstein-1 distance instead; its gradient penalty holds |f'| near 1 along the segments between the two
distributions, so G's loss -f(x) keeps a gradient of size ~1 at every fake however far apart the distributions are.
(For two equal-width Gaussians the best critic is linear, f(x) = s x; the loss -sΔ + 10 (s - 1)² with
Δ = μ_r - μ_f is smallest at s = 1 + Δ/20, so the slope is 1.2 here, not exactly 1.)

Both players are the same small MLP and both losses come from :mod:`genlab.objectives` (``minimax`` and
``wgan-gp``), so the experiment measures the objectives genlab trains with, not a re-derivation of them. The
control repeats everything with overlapping Gaussians (fakes at +1.8): the optimal discriminator
D*(x) = σ((μ_r - μ_f)/σ² · (x - (μ_r + μ_f)/2)) then stays near 1/2 at the fakes and cannot saturate, so the
minimax gradient keeps the same size as the critic's and the ratio drops from orders of magnitude to about 1.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from genlab.lab.base import LABS, LabResult, mlp_1d, save_figure, train_frozen_d
from genlab.objectives.minimax import Minimax
from genlab.objectives.wgan import WGANGP

REAL_MEAN, FAKE_MEAN, STD = 2.0, -2.0, 0.3
CONTROL_FAKE_MEAN = 1.8
"""The control's fakes: 0.2 from the reals (2/3 of a standard deviation), so the two densities overlap heavily."""
D_STEPS, D_LR = 400, 2e-3
CRITIC_STEPS, CRITIC_LR, CRITIC_BETAS = 500, 1e-4, (0.5, 0.9)
BATCH = 256
EVAL_SAMPLES = 4096


def _gaussian(mean: float, n: int, generator: torch.Generator) -> torch.Tensor:
    return (mean + STD * torch.randn(n, 1, generator=generator)).float()


def _check(real_mean: float, fake_mean: float, steps: int) -> None:
    if not (np.isfinite(real_mean) and np.isfinite(fake_mean)) or real_mean == fake_mean:
        raise ValueError(f"real_mean and fake_mean must be finite and differ, got {real_mean} and {fake_mean}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")


def train_discriminator(real_mean: float, fake_mean: float, steps: int = D_STEPS, seed: int = 0) -> nn.Module:
    """A GAN discriminator trained with the ``minimax`` objective's D loss (BCE on logits), G frozen.

    Adam at a fairly high learning rate and no schedule: with separable data the loss has no minimum at finite
    weights, so the longer D trains the larger its logits grow, which is the saturation under study.
    """
    _check(real_mean, fake_mean, steps)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = mlp_1d()
    train_frozen_d(
        net,
        Minimax(),
        lambda: _gaussian(real_mean, BATCH, generator),
        lambda: _gaussian(fake_mean, BATCH, generator),
        steps,
        torch.optim.Adam(net.parameters(), lr=D_LR),
    )
    return net


def train_critic(real_mean: float, fake_mean: float, steps: int = CRITIC_STEPS, seed: int = 0) -> nn.Module:
    """A WGAN-GP critic: ``wgan-gp``'s loss E f(fake) - E f(real) plus 10 (‖∇f(x̂)‖ - 1)² on random interpolates.

    Adam lr 1e-4, betas (0.5, 0.9), as in Gulrajani et al. (2017).
    """
    _check(real_mean, fake_mean, steps)
    torch.manual_seed(seed + 1)
    generator = torch.Generator().manual_seed(seed + 1)
    net = mlp_1d()
    train_frozen_d(
        net,
        WGANGP(),
        lambda: _gaussian(real_mean, BATCH, generator),
        lambda: _gaussian(fake_mean, BATCH, generator),
        steps,
        torch.optim.Adam(net.parameters(), lr=CRITIC_LR, betas=CRITIC_BETAS),
    )
    return net


def generator_gradients(net: nn.Module, x: np.ndarray, objective: Minimax | WGANGP) -> np.ndarray:
    """|∂/∂x| of the generator's loss ``objective.g_loss`` at each point of ``x``, in float64.

    ``g_loss`` is a batch mean, so it is scaled by the batch size to give each point its own loss's gradient:
    |σ(l(x)) l'(x)| for minimax (the derivative of log(1 - D(x))) and |f'(x)| for the critic. Float64 keeps
    σ(l) from underflowing to 0 at very negative logits, which would make the ratio infinite rather than large.
    """
    net64 = copy.deepcopy(net).double()
    points = torch.as_tensor(np.asarray(x, dtype=np.float64).reshape(-1, 1)).requires_grad_(True)
    loss = objective.g_loss(net64(points)) * points.shape[0]
    (grad,) = torch.autograd.grad(loss, points)
    return grad[:, 0].abs().numpy()


def _outputs(net: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return copy.deepcopy(net).double()(torch.as_tensor(x, dtype=torch.float64)[:, None])[:, 0].numpy()


@dataclass
class FieldReport:
    real_mean: float
    fake_mean: float
    discriminator: nn.Module
    critic: nn.Module
    d_grad: np.ndarray
    """|∂/∂x log(1 - D(x))| at fresh fake samples."""
    critic_grad: np.ndarray
    """|f'(x)| at the same samples."""
    d_fake: float
    """Mean D(x) = σ(l(x)) at those samples: near 0 once D has saturated."""

    @property
    def ratio(self) -> float:
        return float(self.critic_grad.mean() / self.d_grad.mean())

    def numbers(self, prefix: str = "") -> dict[str, float]:
        return {
            f"{prefix}fake_mean": self.fake_mean,
            f"{prefix}d_grad_mean": float(self.d_grad.mean()),
            f"{prefix}critic_grad_mean": float(self.critic_grad.mean()),
            f"{prefix}ratio": self.ratio,
            f"{prefix}d_fake_mean": self.d_fake,
        }


def measure(
    real_mean: float = REAL_MEAN,
    fake_mean: float = FAKE_MEAN,
    seed: int = 0,
    d_steps: int = D_STEPS,
    critic_steps: int = CRITIC_STEPS,
) -> FieldReport:
    """Train D and the critic on N(real_mean, 0.3²) vs N(fake_mean, 0.3²) and measure G's gradients at new fakes."""
    discriminator = train_discriminator(real_mean, fake_mean, d_steps, seed)
    critic = train_critic(real_mean, fake_mean, critic_steps, seed)
    fakes = fake_mean + STD * np.random.default_rng(seed + 2).standard_normal(EVAL_SAMPLES)
    d_grad = generator_gradients(discriminator, fakes, Minimax())
    critic_grad = generator_gradients(critic, fakes, WGANGP())
    d_fake = float((1 / (1 + np.exp(-_outputs(discriminator, fakes)))).mean())
    return FieldReport(real_mean, fake_mean, discriminator, critic, d_grad, critic_grad, d_fake)


def _plot(report: FieldReport, out: Path) -> Path:
    import matplotlib.pyplot as plt

    x = np.linspace(-4, 4, 801)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7), sharex=True)
    top.fill_between(
        x, norm.pdf(x, report.real_mean, STD), color="C0", alpha=0.25, label=f"real N({report.real_mean:+g}, {STD:g}²)"
    )
    top.fill_between(
        x, norm.pdf(x, report.fake_mean, STD), color="C1", alpha=0.25, label=f"fake N({report.fake_mean:+g}, {STD:g}²)"
    )
    top.plot(x, 1 / (1 + np.exp(-_outputs(report.discriminator, x))), color="C3", label="GAN D(x) = σ(l(x))")
    top.set_ylabel("density, D(x)")
    twin = top.twinx()
    twin.plot(x, _outputs(report.critic, x), color="C2", label="WGAN-GP critic f(x) (right axis)")
    twin.set_ylabel("critic f(x)", color="C2")
    lines = top.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    labels = top.get_legend_handles_labels()[1] + twin.get_legend_handles_labels()[1]
    top.legend(lines, labels, loc="upper left", fontsize=8)
    top.set_title("Optimal discriminator and critic for two Gaussians (WGAN, Fig. 2)", fontsize=10)
    floor = 1e-30
    bottom.semilogy(
        x,
        np.maximum(generator_gradients(report.discriminator, x, Minimax()), floor),
        color="C3",
        label="|d/dx log(1 - D(x))| (minimax G loss)",
    )
    bottom.semilogy(
        x,
        np.maximum(generator_gradients(report.critic, x, WGANGP()), floor),
        color="C2",
        label="|d/dx f(x)| (WGAN G loss)",
    )
    bottom.axvspan(report.fake_mean - 2 * STD, report.fake_mean + 2 * STD, color="C1", alpha=0.12, label="fakes ±2σ")
    bottom.set_xlabel("x")
    bottom.set_ylabel("gradient magnitude G receives")
    bottom.set_title(
        f"at the fakes: critic {report.critic_grad.mean():.3g} vs minimax {report.d_grad.mean():.3g}"
        f" (ratio {report.ratio:.3g})",
        fontsize=10,
    )
    bottom.legend(loc="lower right", fontsize=8)
    return save_figure(fig, out / "critic-field.png")


@LABS.register("critic-field")
def critic_field(out: Path, seed: int) -> LabResult:
    """Headline: ``ratio`` = mean |f'| / mean |∂ log(1 - D)/∂x| at fresh fakes (issue: >= 10), far-apart Gaussians.

    ``control_*`` repeats the measurement with overlapping Gaussians (fakes at +1.8), where D cannot saturate and
    the ratio should be about 1.
    """
    report = measure(REAL_MEAN, FAKE_MEAN, seed)
    control = measure(REAL_MEAN, CONTROL_FAKE_MEAN, seed)
    figure = _plot(report, out)
    numbers = {
        "real_mean": REAL_MEAN,
        "std": STD,
        **report.numbers(),
        **control.numbers("control_"),
        "d_steps": D_STEPS,
        "critic_steps": CRITIC_STEPS,
        "batch": BATCH,
    }
    return LabResult(numbers, [figure])
