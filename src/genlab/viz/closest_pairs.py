"""The memorisation check as a picture: the generated samples nearest to the training set above their nearest
training images (the pairs come from :func:`genlab.metrics.memorisation.closest_pairs`)."""

from __future__ import annotations

from pathlib import Path

import torch

from genlab.images import to_uint8
from genlab.metrics.arrays import Array
from genlab.metrics.memorisation import ClosestPairs
from genlab.viz.figures import save_figure


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
