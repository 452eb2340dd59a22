"""2-D Gaussian mixtures for mode-collapse experiments, as defined in the PacGAN paper (Lin et al., 2018).

``ring8``: 8 modes on the unit circle, std 0.01; ``grid25``: 25 modes on {-4, -2, 0, 2, 4}^2, std 0.05. Each split
is a finite sample drawn from a fixed seed, so every run (and the test split) sees the same points. The points keep
their coordinates (no mapping to [-1, 1]): the mode metrics compare generated points with these means. The labels
are the component each point was drawn from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genlab.data.base import DATASETS, DataConfig, RawImages

SPLIT_SIZES = {"train": 100_000, "test": 10_000}
SPLIT_SEEDS = {"train": 0, "test": 1}


@dataclass(frozen=True, eq=False)
class Mixture:
    """Equal-weight isotropic Gaussian mixture: component means (K, D) and one standard deviation for all."""

    means: np.ndarray
    std: float

    @property
    def num_modes(self) -> int:
        return len(self.means)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` float32 points (n, D) and the component index of each, from ``np.random.default_rng(seed)``."""
        rng = np.random.default_rng(seed)
        components = rng.integers(self.num_modes, size=n)
        points = self.means[components] + self.std * rng.standard_normal((n, self.means.shape[1]))
        return points.astype(np.float32), components


def _ring(k: int, radius: float) -> np.ndarray:
    angles = 2 * math.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


MIXTURES: dict[str, Mixture] = {
    "ring8": Mixture(_ring(8, 1.0), 0.01),
    "grid25": Mixture(np.array([(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)], dtype=np.float64), 0.05),
}
"""The toy data sets by name, so metrics can find the means of the data a run trains on."""


def load_mixture(cfg: DataConfig) -> RawImages:
    mixture = MIXTURES[cfg.name]
    splits = ("train", "test") if cfg.split == "all" else (cfg.split,)
    drawn = [mixture.sample(SPLIT_SIZES[s], SPLIT_SEEDS[s]) for s in splits]
    points = torch.from_numpy(np.concatenate([p for p, _ in drawn]))
    labels = torch.from_numpy(np.concatenate([c for _, c in drawn]).astype(np.int64))
    return RawImages(points, labels)


for _name in MIXTURES:
    DATASETS.register(_name)(load_mixture)
