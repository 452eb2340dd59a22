import importlib
import math

import numpy as np
import pytest
import torch

from genlab.metrics.kid import kid

KID_MODULE = importlib.import_module("genlab.metrics.kid")  # the module; genlab.metrics.kid is the function


def kernel(a: np.ndarray, b: np.ndarray) -> float:
    return (a @ b / len(a) + 1.0) ** 3


def brute_force_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² by the textbook double sums (Gretton et al. 2012, eq. 3), one kernel evaluation at a time."""
    m, n = len(x), len(y)
    xx = sum(kernel(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(kernel(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(kernel(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_full_size_subsets_equal_the_brute_force_estimator_and_have_no_error_bar():
    # With subset_size >= both sets (equal size), every subset is a permutation of the whole set and MMD² is
    # permutation invariant: every subset gives the brute-force value. Their spread (round-off, about 1e-16) is no
    # error bar, so the std is NaN; so it is for a single subset.
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)) * 1.3 + 0.4
    mean, std = kid(x, y, subsets=4, subset_size=7)
    assert mean == pytest.approx(brute_force_mmd2(x, y), rel=1e-12)
    assert math.isnan(std)
    mean, std = kid(x, y, subsets=1, subset_size=3)
    assert math.isfinite(mean) and math.isnan(std)


def test_mean_over_random_subsets_converges_to_the_full_set_u_statistic():
    # Subsets drawn uniformly without replacement make each subset's MMD² an unbiased estimate of the full-set
    # value computed with the same formula (every pair is equally likely to be in a subset), whatever the draw
    # order; with 400 subsets the mean must sit within 4 standard errors of it.
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((12, 2)), rng.standard_normal((10, 2)) + 0.5
    mean, std = kid(x, y, subsets=400, subset_size=5, seed=3)
    assert std > 0
    assert abs(mean - brute_force_mmd2(x, y)) < 4 * std / np.sqrt(400)


def test_std_is_the_population_std_over_subsets():
    # Sets of 3 with subsets of 2 allow only 3 x 3 subset pairs, whose MMD² values are computed here by brute
    # force. With 2 subsets, mean ± std (ddof=0) are exactly the two subset values, so both must be among them.
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)) + 1.0
    pairs = [[0, 1], [0, 2], [1, 2]]
    possible = np.array([brute_force_mmd2(x[i], y[j]) for i in pairs for j in pairs])
    stds = []
    for seed in range(3):
        mean, std = kid(x, y, subsets=2, subset_size=2, seed=seed)
        for value in (mean - std, mean + std):
            assert np.abs(possible - value).min() < 1e-12 * np.abs(possible).max()
        stds.append(std)
    assert max(stds) > 0  # the two subsets differed at least once


def test_two_halves_of_the_same_sample_have_kid_near_zero():
    # Under the null the mean over subsets approximates the full-set estimate, whose sd is about
    # std * subset_size / set_size (0.2 std here; measured 0.24 std over 40 seeds), so |mean| < std is a
    # ~4-sigma bound that holds for each of these fixed seeds.
    for seed in range(5):
        x = np.random.default_rng(seed).standard_normal((2000, 16))
        mean, std = kid(x[::2], x[1::2], subsets=50, subset_size=200, seed=seed)
        assert abs(mean) < std, (seed, mean, std)


def test_a_shifted_distribution_has_clearly_positive_kid():
    x = np.random.default_rng(0).standard_normal((2000, 16))
    mean, std = kid(x[::2], x[1::2] + 0.5, subsets=50, subset_size=200)
    assert mean > 10 * std > 0
    null_mean, _ = kid(x[::2], x[1::2], subsets=50, subset_size=200)
    assert mean > 50 * abs(null_mean)


def test_subset_size_larger_than_the_sets_is_clipped_to_the_smaller_set():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((30, 4)), rng.standard_normal((20, 4))
    assert kid(x, y, subsets=10, subset_size=1000, seed=5) == kid(x, y, subsets=10, subset_size=20, seed=5)
    mean, std = kid(x[:20], y, subsets=3, subset_size=1000)
    assert mean == pytest.approx(brute_force_mmd2(x[:20], y), rel=1e-12) and math.isnan(std)


def test_torch_and_numpy_inputs_agree_and_the_seed_is_reproducible():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((100, 8)).astype(np.float32), rng.standard_normal((80, 8)).astype(np.float32)
    a = kid(x, y, subsets=20, subset_size=50, seed=1)
    b = kid(torch.from_numpy(x), torch.from_numpy(y), subsets=20, subset_size=50, seed=1)
    assert a == pytest.approx(b, rel=1e-12)
    assert all(isinstance(v, float) for v in a)
    assert kid(x, y, subsets=20, subset_size=50, seed=2) != a


def test_one_subset_at_a_time_gives_the_same_result_as_batches(monkeypatch):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((60, 6)), rng.standard_normal((50, 6)) + 0.2
    batched = kid(x, y, subsets=30, subset_size=20, seed=4)  # all 30 subsets in one batch
    monkeypatch.setattr(KID_MODULE, "BLOCK", 1)  # one subset per batch: the plain matrix-product path
    assert kid(x, y, subsets=30, subset_size=20, seed=4) == pytest.approx(batched, rel=1e-12)


def test_bad_inputs_raise_clear_errors():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match="at least 2"):
        kid(x, np.zeros((1, 4)))
    with pytest.raises(ValueError, match="different dimensions"):
        kid(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        kid(np.zeros(10), x)
    with pytest.raises(ValueError, match="subsets >= 1"):
        kid(x, x, subsets=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        kid(x, np.full((10, 4), np.inf))
