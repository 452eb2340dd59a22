import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

import genlab.metrics.nearest as nearest_module
from genlab.data import DataConfig, load_dataset
from genlab.metrics.memorisation import (
    closest_pairs,
    memorisation,
    memorisation_from_distances,
)
from genlab.metrics.nearest import nearest_neighbours


def gaussian(n: int, seed: int, dim: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim))


def test_nearest_neighbours_match_brute_force_scipy_across_blocks(monkeypatch):
    queries, reference = gaussian(37, 0, 5), gaussian(20, 1, 5)
    monkeypatch.setattr(nearest_module, "CHUNK_ELEMENTS", 50)  # blocks of 2 query rows
    distances, indices = nearest_neighbours(torch.as_tensor(queries), reference)
    full = cdist(queries, reference)
    np.testing.assert_allclose(distances, full.min(axis=1), rtol=1e-10)
    assert np.array_equal(indices, full.argmin(axis=1)) and indices.dtype == np.int64


def test_copies_of_training_samples_are_all_memorised():
    train, heldout = gaussian(2000, 0), gaussian(2000, 1)
    copies = train[np.random.default_rng(2).integers(0, 2000, 1000)] + 1e-6 * gaussian(1000, 3)
    result = memorisation(copies, train, heldout)
    assert result["memorised_fraction"] == 1.0
    assert result["median_generated"] < 1e-5 < result["median_heldout"]
    assert result["n_generated"] == 1000 and result["n_train"] == 2000 and result["n_heldout"] == 2000


def test_fresh_samples_are_memorised_at_the_percentile_rate():
    # Generated, held-out and training sets are independent draws of one distribution, so P(d_gen < threshold) is the
    # true CDF at the empirical 1st percentile of 5,000 held-out distances. That CDF value has std
    # sqrt(0.01 * 0.99 / 5000) = 0.0014, and the fraction of 5,000 generated samples adds a binomial std of 0.0014:
    # 0.002 in all (over ten seeds the fraction measured 0.0097 +- 0.0024), so +-0.01 is four standard deviations.
    train, heldout, fresh = gaussian(5000, 0), gaussian(5000, 1), gaussian(5000, 2)
    result = memorisation(fresh, train, heldout)
    assert result["memorised_fraction"] == pytest.approx(0.01, abs=0.01)
    assert result["median_generated"] == pytest.approx(result["median_heldout"], rel=0.05)
    # At the 10th percentile the stds are sqrt(0.1 * 0.9 / 5000) = 0.0042 each, 0.006 together: +-0.024 is 4 std.
    assert memorisation(fresh, train, heldout, percentile=10)["memorised_fraction"] == pytest.approx(0.10, abs=0.024)


def test_a_half_copying_generator_is_in_between():
    train, heldout = gaussian(3000, 0), gaussian(3000, 1)
    mixed = np.concatenate([train[:1500] + 1e-6, gaussian(1500, 2)])
    # All 1,500 copies count, plus about 1% of the 1,500 fresh ones (+-0.01 on the total: > 4 std of the 15 expected).
    assert memorisation(mixed, train, heldout)["memorised_fraction"] == pytest.approx(0.505, abs=0.01)


def test_statistics_from_distances_by_hand():
    heldout = np.arange(1, 101, dtype=float)  # 1st percentile (linear interpolation): 1 + 0.99 * (2 - 1) = 1.99
    result = memorisation_from_distances([0.5, 1.5, 1.99, 2.5], heldout)
    assert result == {
        "memorised_fraction": 0.5,  # 0.5 and 1.5 are below 1.99; 1.99 itself is not (strictly closer)
        "threshold": pytest.approx(1.99),
        "median_generated": pytest.approx(1.745),
        "median_heldout": 50.5,
        "percentile": 1.0,
        "n_generated": 4,
        "n_heldout": 100,
    }


def test_mnist_pixels_test_images_generalise_and_noisy_training_images_do_not(mnist_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(mnist_dir.parent))
    train = load_dataset(DataConfig(name="mnist", size=28, limit=5000)).images.flatten(1)
    test = load_dataset(DataConfig(name="mnist", size=28, split="test", limit=2000)).images.flatten(1)
    heldout, unseen = test[:1000], test[1000:]
    # Test images are fresh digits: about 1% of them fall below the 1st percentile of other test images. The
    # threshold is the 10th smallest of 1,000 distances (CDF std 0.003) and the fraction of 1,000 adds 0.003:
    # +-0.02 is almost five standard deviations.
    assert memorisation(unseen, train, heldout)["memorised_fraction"] == pytest.approx(0.01, abs=0.02)
    noisy_copies = (train[:1000] + 0.05 * torch.randn(1000, 784, generator=torch.Generator().manual_seed(0))).clamp(
        -1, 1
    )
    assert memorisation(noisy_copies, train, heldout)["memorised_fraction"] > 0.98


def test_closest_pairs_by_hand():
    pairs = closest_pairs(np.array([0.3, 0.1, 0.5, 0.1]), torch.tensor([7, 8, 9, 6]), k=3)
    assert pairs.generated.tolist() == [1, 3, 0]  # tie at 0.1: lower generated index first
    assert pairs.train.tolist() == [8, 6, 7]
    assert pairs.distances.tolist() == [0.1, 0.1, 0.3]
    assert len(pairs) == 3


def test_closest_pairs_from_nearest_neighbours_find_the_copies():
    train, fresh = gaussian(200, 0), gaussian(50, 1)
    generated = np.concatenate([fresh[:20], train[[17, 42]] + 1e-4, fresh[20:]])  # copies at rows 20 and 21
    distances, indices = nearest_neighbours(generated, train)
    pairs = closest_pairs(distances, indices, k=2)
    assert sorted(zip(pairs.generated.tolist(), pairs.train.tolist(), strict=True)) == [(20, 17), (21, 42)]


def test_bad_inputs_are_refused():
    train = gaussian(200, 0)
    with pytest.raises(ValueError, match="features per row"):
        nearest_neighbours(gaussian(5, 1, dim=3), train)
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        memorisation(np.zeros((5, 2, 2)), train, train)
    with pytest.raises(ValueError, match="percentile must be in"):
        memorisation(train, train, gaussian(200, 1), percentile=0)
    with pytest.raises(ValueError, match="at least 100 held-out samples"):
        memorisation(train, train, gaussian(99, 1))
    with pytest.raises(ValueError, match="disjoint from the training data"):
        memorisation(gaussian(10, 2), train, train)
    with pytest.raises(ValueError, match="k must be between 1 and"):
        closest_pairs(np.ones(3), np.arange(3), k=4)
    with pytest.raises(ValueError, match="indices integer"):
        closest_pairs(np.ones(3), np.ones(3), k=1)
