"""Memorisation test: does the generator copy its training set, or generalise from it?

Nearest-neighbour distance to the training set alone cannot tell: real images of a dense class lie close to training
images too. The held-out split calibrates it. Held-out real images are fresh samples of the data distribution, so
their distances to the nearest training image show how close a *generalising* generator's samples would be. Let the
threshold be the ``percentile``-th percentile of those held-out distances: about ``percentile`` % of fresh samples
fall below it by definition, while a generator that reproduces training images (up to small changes) puts almost
all its samples below it. So the fraction of generated samples closer than the threshold is about
``percentile / 100`` for a generalising model and rises towards 1 the more it copies.

Distances are Euclidean in whatever feature space the caller passes (pixels, classifier or Inception features).
:func:`closest_pairs` and :func:`plot_closest_pairs` show the most suspicious samples next to their nearest training
images, the check the seeds recommend before trusting any number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genlab.images import to_uint8
from genlab.metrics.arrays import Array, feature_tensor, to_numpy
from genlab.metrics.nearest import nearest_neighbours
from genlab.viz.figures import save_figure


def memorisation(generated: Array, train: Array, heldout: Array, percentile: float = 1.0) -> dict[str, float | int]:
    """Fraction of generated samples closer to the training set than ``percentile`` % of held-out real samples are.

    All three are feature matrices (N, D) with the same D; ``heldout`` must be real data the generator never saw.
    Returns ``memorised_fraction`` (about ``percentile / 100`` when the generator generalises, near 1 when it copies),
    ``threshold`` (the ``percentile``-th percentile of the held-out distances), ``median_generated`` and
    ``median_heldout`` (median nearest-training distances; a generated median far below the held-out one also
    signals copying), ``percentile`` and the counts ``n_generated``, ``n_train``, ``n_heldout``.
    """
    train_t = feature_tensor(train, "train")
    generated_distances, _ = nearest_neighbours(feature_tensor(generated, "generated", device=train_t.device), train_t)
    heldout_distances, _ = nearest_neighbours(feature_tensor(heldout, "heldout", device=train_t.device), train_t)
    stats = memorisation_from_distances(generated_distances, heldout_distances, percentile)
    return {**stats, "n_train": len(train_t)}


def memorisation_from_distances(
    generated_distances: Array, heldout_distances: Array, percentile: float = 1.0
) -> dict[str, float | int]:
    """:func:`memorisation` from nearest-training distances computed beforehand with :func:`nearest_neighbours`
    (reuse them for :func:`closest_pairs` instead of computing them twice)."""
    generated = to_numpy(generated_distances, "generated_distances")
    heldout = to_numpy(heldout_distances, "heldout_distances")
    if generated.ndim != 1 or heldout.ndim != 1 or len(generated) == 0:
        raise ValueError(f"distances must be non-empty vectors (N,), got shapes {generated.shape} and {heldout.shape}")
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be in (0, 100), got {percentile}; 1.0 means the 1st percentile")
    needed = math.ceil(100 / percentile)
    if len(heldout) < needed:
        raise ValueError(
            f"the {percentile}th percentile needs at least {needed} held-out samples to lie between two of them, "
            f"got {len(heldout)}; pass more held-out samples or a larger percentile"
        )
    threshold = float(np.percentile(heldout, percentile))
    if threshold <= 0:
        raise ValueError(
            f"the {percentile}th percentile of the held-out distances is 0: at least {percentile}% of the held-out "
            "samples also occur in the training set. Use a held-out split disjoint from the training data"
        )
    return {
        "memorised_fraction": float((generated < threshold).mean()),
        "threshold": threshold,
        "median_generated": float(np.median(generated)),
        "median_heldout": float(np.median(heldout)),
        "percentile": float(percentile),
        "n_generated": len(generated),
        "n_heldout": len(heldout),
    }


@dataclass(frozen=True)
class ClosestPairs:
    """The generated samples nearest to the training set, closest first."""

    generated: np.ndarray
    """(k,) indices into the generated set."""
    train: np.ndarray
    """(k,) index of each one's nearest training sample."""
    distances: np.ndarray
    """(k,) their distances, ascending."""

    def __len__(self) -> int:
        return len(self.generated)


def closest_pairs(distances: Array, indices: Array, k: int = 8) -> ClosestPairs:
    """The ``k`` generated samples with the smallest nearest-training ``distances`` (ties: lower index first), with
    their nearest training ``indices``; both arrays as returned by :func:`nearest_neighbours` (generated, train)."""
    d = to_numpy(distances, "distances")
    idx = torch.as_tensor(indices).cpu().numpy()
    if d.ndim != 1 or idx.shape != d.shape or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"distances and indices must be vectors of the same length, indices integer; got shapes {d.shape} "
            f"and {idx.shape}, indices dtype {idx.dtype}"
        )
    if not 1 <= k <= len(d):
        raise ValueError(f"k must be between 1 and the number of generated samples ({len(d)}), got {k}")
    order = np.argsort(d, kind="stable")[:k]
    return ClosestPairs(order, idx[order].astype(np.int64), d[order])


def plot_closest_pairs(generated_images: Array, train_images: Array, pairs: ClosestPairs, path: str | Path) -> Path:
    """Write a PNG with the generated images of ``pairs`` on top and their nearest training images below.

    Images are (N, C, H, W) in [-1, 1] with C = 1 or 3 (the whole sets; ``pairs`` picks the rows). Each column is
    titled with the two indices and the distance (measured in the feature space the pairs came from).
    """
    generated = image_batch(generated_images, "generated_images")
    train = image_batch(train_images, "train_images")
    if generated.shape[1:] != train.shape[1:]:
        raise ValueError(
            f"generated images {tuple(generated.shape[1:])} and train images {tuple(train.shape[1:])} differ"
        )
    for name, index, size in (("generated", pairs.generated, len(generated)), ("train", pairs.train, len(train))):
        if len(index) and (index.min() < 0 or index.max() >= size):
            raise ValueError(f"pairs refer to {name} image {index.max()}, but only {size} {name} images were passed")
    import matplotlib.pyplot as plt

    rows = (to_uint8(generated[pairs.generated]), to_uint8(train[pairs.train]))
    k = len(pairs)
    fig, axes = plt.subplots(2, k, figsize=(1.3 * k + 0.6, 3.0), squeeze=False)
    for column in range(k):
        for row, pictures in enumerate(rows):
            ax = axes[row][column]
            picture = pictures[column]
            if picture.shape[2] == 1:
                ax.imshow(picture[..., 0], cmap="gray", vmin=0, vmax=255)
            else:
                ax.imshow(picture)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][column].set_title(f"gen {pairs.generated[column]}\nd={pairs.distances[column]:.3g}", fontsize=8)
        axes[1][column].set_title(f"train {pairs.train[column]}", fontsize=8)
    axes[0][0].set_ylabel("generated")
    axes[1][0].set_ylabel("nearest train")
    fig.tight_layout()
    return save_figure(fig, path)


def image_batch(images: Array, name: str) -> torch.Tensor:
    """``images`` as a CPU float tensor of shape (N, C, H, W) with C = 1 or 3."""
    t = torch.as_tensor(images).detach().cpu().float()
    if t.ndim != 4 or t.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have shape (N, C, H, W) with C = 1 or 3, got {tuple(t.shape)}")
    return t
