"""Mode statistics of generated points against a known Gaussian mixture (VEEGAN's and PacGAN's toy metrics).

Each generated point is assigned to its nearest component mean; it is *high quality* when it lies closer than
``threshold`` (3) standard deviations to that mean. From these: how many modes have at least one high-quality point,
the fraction of high-quality points, and the reverse KL divergence from the uniform distribution over modes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from genlab.data.toy import MIXTURES, Mixture
from genlab.errors import ConfigError
from genlab.metrics.arrays import feature_tensor
from genlab.metrics.base import METRICS, Metric, MetricInputs
from genlab.metrics.divergences import kl_divergence
from genlab.metrics.features import load_classifier
from genlab.metrics.stacked import stacked_mnist_modes

MODE_SAMPLES = 2500
"""Generated points the statistics are computed on, as in PacGAN's and VEEGAN's toy experiments."""


@dataclass(frozen=True)
class ModeStats:
    modes_covered: int
    """Components with at least one high-quality point."""
    num_modes: int
    high_quality: float
    """Fraction (in [0, 1], not percent) of all points that are high quality."""
    reverse_kl: float
    """KL(p_gen || uniform) in nats over the high-quality points' components; NaN when there are none."""

    def as_dict(self) -> dict[str, int | float]:
        return asdict(self)


def mode_stats(samples: torch.Tensor | np.ndarray, mixture: Mixture, threshold: float = 3.0) -> ModeStats:
    """Mode coverage, high-quality fraction and reverse KL of ``samples`` (N, D) against ``mixture``.

    The reverse-KL histogram counts only high-quality points, each in the component it is nearest to. That is what
    PacGAN's code does (``MetricLogger`` in ``synthetic_data_experiments/PacGAN/pacgan/extensions.py`` of
    github.com/fjxmlzn/PacGAN fills its per-mode counts only for points within 3 std), so the numbers are comparable
    with its Table 1; it also keeps far-off points (which belong to no mode) from looking like coverage. Empty bins
    contribute 0 (0 log 0 = 0). A point exactly at ``threshold`` std is not high quality (PacGAN uses ``<``).
    """
    points = feature_tensor(samples, "samples", device=torch.device("cpu"))
    means = torch.as_tensor(mixture.means, dtype=torch.float64)
    if points.shape[1] != means.shape[1]:
        raise ValueError(f"samples must have shape (N, {means.shape[1]}) with N >= 1, got {tuple(points.shape)}")
    distances = (points[:, None, :] - means[None, :, :]).norm(dim=2)
    nearest, component = distances.min(dim=1)
    good = nearest < threshold * mixture.std
    counts = torch.bincount(component[good], minlength=len(means)).double()
    total = counts.sum().item()
    reverse_kl = math.nan if total == 0 else kl_divergence(counts, np.ones(len(means)))
    return ModeStats(
        modes_covered=int((counts > 0).sum()),
        num_modes=len(means),
        high_quality=total / len(points),
        reverse_kl=reverse_kl,
    )


@METRICS.register("modes")
class ModeCount(Metric):
    """Modes covered: Stacked MNIST's 1,000 (each channel's digit read by the MNIST classifier, whatever extractor
    the other metrics use) or the 2-D mixtures' components (with the high-quality share); KL to uniform modes."""

    in_feature_space = False

    def check(self, data_name: str, features: str) -> None:
        if data_name not in (*MIXTURES, "stacked-mnist"):
            raise ConfigError(
                f"eval.metrics: 'modes' counts modes of stacked-mnist, {', '.join(MIXTURES)}; not of '{data_name}'"
            )

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        if inputs.data.name in MIXTURES:
            stats = mode_stats(inputs.samples, MIXTURES[inputs.data.name])
            return {"modes": stats.modes_covered, "high_quality": stats.high_quality, "modes_kl": stats.reverse_kl}
        digits = load_classifier("mnist", inputs.samples.device)
        found = stacked_mnist_modes(inputs.samples, digits.predict)
        return {"modes": found["modes"], "modes_kl": found["kl"]}
