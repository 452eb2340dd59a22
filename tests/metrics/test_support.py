"""Support size by the birthday paradox: the formula, both estimates on distributions of known support, the
threshold from real data, the closest pairs, and the metric through the evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import genlab.metrics.support as support
from genlab.data import DataConfig, load_dataset
from genlab.metrics import EvalConfig, Evaluator
from genlab.metrics.support import (
    birthday_support,
    closest_pool_pairs,
    count_close_pairs,
    duplicate_threshold,
    support_size,
)

DIGITS = DataConfig(name="digits")


def draws_from(items: int, n: int, seed: int = 0, weights: np.ndarray | None = None) -> torch.Tensor:
    """``n`` draws from ``items`` well separated points in 8-D (pairwise distances >> 1), jittered by < 0.01."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(items, 8)) * 100
    chosen = rng.choice(items, size=n, p=weights)
    return torch.from_numpy(points[chosen] + rng.uniform(-1e-3, 1e-3, size=(n, 8)))


def test_the_birthday_formula_gives_the_year_from_23_people():
    # 23 people share a birthday with probability 0.5073 (the exact product over 365 days)
    exact = 1 - math.prod(1 - i / 365 for i in range(23))
    assert exact == pytest.approx(0.5073, abs=1e-4)
    assert birthday_support(23, exact) == pytest.approx(365, rel=0.03)  # the exp(-s(s-1)/2N) approximation
    assert birthday_support(10, 1 - math.exp(-45 / 1000)) == pytest.approx(1000, rel=1e-12)


def test_a_uniform_distribution_on_200_items_is_estimated_as_200():
    estimate = support_size(draws_from(200, 3000), threshold=1.0, trials=400)
    assert estimate.pairs == pytest.approx(200, rel=0.1)
    assert estimate.batch == pytest.approx(200, rel=0.35)
    assert 8 <= estimate.batch_size <= 32 and not estimate.lower_bound  # s_half = sqrt(2 ln 2 * 200) = 16.7
    assert estimate.batch_probabilities[4] < 0.2


def test_the_pair_count_of_a_skewed_distribution_is_its_collision_size():
    weights = np.r_[np.full(10, 0.05), np.full(500, 0.001)]  # half the mass on 10 items, half on 500
    estimate = support_size(draws_from(510, 3000, weights=weights), threshold=1.0, trials=50)
    assert estimate.pairs == pytest.approx(1 / (weights**2).sum(), rel=0.15)  # 1 / 0.0255 = 39, far below 510


def test_without_any_close_pair_both_estimates_are_flagged_lower_bounds():
    samples = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))
    estimate = support_size(samples, threshold=1e-3, trials=5, max_batch=64)
    assert estimate.lower_bound and estimate.duplicate_pairs == 0
    assert estimate.pairs == 300 * 299 / 2 and estimate.batch_size == 64
    assert estimate.batch == pytest.approx(birthday_support(64, 1 / 10))


def test_a_single_repeated_image_has_support_near_one():
    estimate = support_size(draws_from(1, 100), threshold=1.0, trials=10)
    assert estimate.pairs == 1 and estimate.batch_size == 4 and estimate.batch < 5


def test_close_pairs_are_counted_across_row_blocks(monkeypatch):
    samples = draws_from(30, 200, seed=3)
    brute = int(((torch.cdist(samples, samples) < 1.0).sum() - len(samples)) // 2)
    monkeypatch.setattr(support, "CHUNK_ELEMENTS", 7 * 200)  # 7 rows per block: blocks end mid-way
    assert count_close_pairs(samples, 1.0) == brute > 0


def test_threshold_is_the_percentile_of_held_out_distances_to_the_training_set():
    train = np.array([[0.0], [10.0], [20.0]])
    heldout = np.array([[1.0], [12.0], [23.0]])  # distances 1, 2, 3
    assert duplicate_threshold(train, heldout, percentile=50) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="also occur in the training set"):
        duplicate_threshold(train, train, percentile=50)
    with pytest.raises(ValueError, match="percentile must be in"):
        duplicate_threshold(train, heldout, percentile=0)


def test_closest_pairs_by_hand_across_blocks(monkeypatch):
    points = np.array([[0.0], [10.0], [10.5], [30.0], [31.5], [50.0]])
    monkeypatch.setattr(support, "CHUNK_ELEMENTS", 2 * 6)
    pairs, distances = closest_pool_pairs(points, k=3)
    assert pairs.tolist() == [[1, 2], [3, 4], [0, 1]] and distances.tolist() == [0.5, 1.5, 10.0]
    with pytest.raises(ValueError, match="between 1 and the 15 pairs"):
        closest_pool_pairs(points, k=16)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="positive distance"):
        support_size(torch.zeros(10, 2), threshold=0.0)
    with pytest.raises(ValueError, match="NaN or inf"):
        support_size(torch.full((10, 2), math.nan), threshold=1.0)
    with pytest.raises(ValueError, match="at least 4"):
        support_size(torch.zeros(3, 2), threshold=1.0)


def test_the_metric_sees_a_generator_that_draws_from_40_training_images():
    evaluator = Evaluator(EvalConfig(metrics=("support",), n=1000), DIGITS)
    train = load_dataset(DIGITS).images
    copies = train[torch.randint(0, 40, (1000,), generator=torch.Generator().manual_seed(0))]
    copying = evaluator.evaluate(copies).values
    real = evaluator.evaluate(load_dataset(DIGITS.model_copy(update={"split": "test"})).images).values
    assert copying["support_pairs"] == pytest.approx(40, rel=0.25) and not copying["support_lower_bound"]
    assert copying["support_batch"] == pytest.approx(40, rel=0.6)
    assert real["support_pairs"] > 50 * copying["support_pairs"] and real["support_threshold"] > 0
