"""Latent views: projections, k-NN accuracy of codes and coordinate sweeps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.latent.views import knn_accuracy, project, sweep_codes


def test_two_dimensional_codes_are_plotted_as_they_are_and_others_projected():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    points, used = project(codes)
    assert used == "direct" and points is codes
    line = np.outer(np.linspace(-1, 1, 50), [1.0, 2.0, 0.0, -1.0, 0.5])  # codes on a line in 5-D
    points, used = project(line)
    assert used == "pca" and points.shape == (50, 2)
    assert np.abs(points[:, 1]).max() < 1e-6  # everything lies along the first component
    points, used = project(np.random.default_rng(1).normal(size=(60, 5)), "tsne")
    assert used == "tsne" and points.shape == (60, 2)


def test_knn_accuracy_separates_clustered_codes_from_shuffled_labels():
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(4), 100)
    codes = np.eye(4)[labels] * 10 + rng.normal(size=(400, 4))
    assert knn_accuracy(codes, labels) == 1.0
    assert knn_accuracy(codes, rng.permutation(labels)) < 0.5


def test_sweeps_move_one_coordinate_per_row():
    base = torch.tensor([1.0, 2.0, 3.0])
    offsets = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]])
    swept = sweep_codes(base, [2, 0], offsets)
    assert swept.tolist() == [
        [1.0, 2.0, 2.0],
        [1.0, 2.0, 3.0],
        [1.0, 2.0, 4.0],
        [-1.0, 2.0, 3.0],
        [1.0, 2.0, 3.0],
        [3.0, 2.0, 3.0],
    ]
    assert base.tolist() == pytest.approx([1.0, 2.0, 3.0])
