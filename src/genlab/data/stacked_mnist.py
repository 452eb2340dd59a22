"""Stacked MNIST: three MNIST digits as the R, G, B channels of one image, so the data have 10^3 = 1,000 modes.

The mode-collapse benchmark of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): a generator that
covers the data should produce all 1,000 digit triples about equally often, which
:func:`genlab.metrics.stacked.stacked_mnist_modes` counts with an MNIST classifier applied to each channel.

The published sets draw the three digits at random on the fly. Here each split is a *fixed* set of the same size as
the MNIST split: sample ``i`` stacks MNIST images ``perm_R[i]``, ``perm_G[i]`` and ``perm_B[i]``, three independent
permutations of the split drawn from a seeded generator (:func:`stack_indices`). Every MNIST image thus appears once
in every channel, and the set is the same on every machine and in every run, so results stay comparable. The
generator is numpy's legacy ``RandomState``, whose stream numpy guarantees never to change (NEP 19), unlike the
streams of ``numpy.random.Generator``.

The label of a sample is its mode, ``100 * d_R + 10 * d_G + d_B``, with class names "000" to "999".
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.data.base import DATASETS, DataConfig, RawImages
from genlab.data.mnist import read_mnist

SEED = 1000
"""Seed of the ``RandomState`` that draws the three permutations (R, then G, then B) of every split."""

NUM_MODES = 1000
CLASS_NAMES = tuple(f"{mode:03d}" for mode in range(NUM_MODES))


def stack_indices(n: int, seed: int = SEED) -> np.ndarray:
    """Indices (3, n) of the MNIST images stacked as R, G and B: three independent permutations of ``range(n)``."""
    rng = np.random.RandomState(seed)
    return np.stack([rng.permutation(n) for _ in range(3)])


def stack_digits(images: np.ndarray, labels: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stack MNIST ``images`` (n, H, W) into (n, 3, H, W) RGB images with mode labels 100 d_R + 10 d_G + d_B."""
    index = stack_indices(len(images), seed)
    stacked = images[index].transpose(1, 0, 2, 3)  # (3, n, H, W) -> (n, 3, H, W)
    modes = (labels[index].astype(np.int64) * np.array([[100], [10], [1]])).sum(axis=0)
    return np.ascontiguousarray(stacked), modes


@DATASETS.register("stacked-mnist")
def load_stacked_mnist(cfg: DataConfig) -> RawImages:
    """Stacked MNIST built from the MNIST IDX files of ``cfg.split`` (searched as for ``mnist``).

    ``all`` stacks the 70,000 images of both splits as one set (one permutation over all of them).
    """
    images, modes = stack_digits(*read_mnist(cfg))
    # Stack as uint8 and convert once: the float copy of the training split alone is 565 MB.
    tensor = torch.from_numpy(images).float().div_(255.0)
    return RawImages(tensor, torch.from_numpy(modes), CLASS_NAMES)
