"""Views of an encoder's latent space: 2-D embeddings of a data set, and traversals of single codes.

An embedding plots each image's code: the code itself when it has two numbers, else a PCA or t-SNE projection
(scikit-learn), coloured by label. Since codes are learnt without labels, how well the classes separate (the
k-nearest-neighbour accuracy of labels from codes, measured on held-out codes) says how useful the embedding is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch

from genlab.viz.figures import save_figure

Projection = Literal["auto", "pca", "tsne"]
KNN = 5


def project(codes: np.ndarray, method: Projection = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """2-D points for (N, d) codes and the method used: the codes themselves when d = 2 (``auto``), else PCA
    (``auto`` when d > 2) or t-SNE (initialised from PCA, perplexity 30)."""
    if codes.shape[1] == 2 and method == "auto":
        return codes, "direct"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(codes) - 1) / 3)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes), "tsne"
    from sklearn.decomposition import PCA

    return PCA(2, random_state=seed).fit_transform(codes), "pca"


def knn_accuracy(codes: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of a 5-nearest-neighbour classifier fitted on the first half of the codes, on the second half."""
    from sklearn.neighbors import KNeighborsClassifier

    half = len(codes) // 2
    fitted = KNeighborsClassifier(KNN).fit(codes[:half], labels[:half])
    return float(fitted.score(codes[half:], labels[half:]))


def plot_embedding(points: np.ndarray, labels: np.ndarray | None, path: Path, title: str) -> Path:
    """A scatter plot of 2-D points coloured by label (one legend entry per class)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.6)
    else:
        for label in np.unique(labels):
            chosen = labels == label
            ax.scatter(points[chosen, 0], points[chosen, 1], s=4, alpha=0.7, label=str(label))
        ax.legend(markerscale=3, fontsize=8, loc="best")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return save_figure(fig, path, bbox_inches="tight")


def sweep_codes(base: torch.Tensor, dims: list[int], offsets: torch.Tensor) -> torch.Tensor:
    """(len(dims) * len(offsets), d) codes: row i moves coordinate dims[i] of ``base`` by each offset in turn
    (``offsets`` (len(dims), steps): per-row offsets), the others stay fixed."""
    rows = base.repeat(len(dims), offsets.shape[1], 1)  # (rows, steps, d)
    for row, dim in enumerate(dims):
        rows[row, :, dim] += offsets[row]
    return rows.flatten(0, 1)
