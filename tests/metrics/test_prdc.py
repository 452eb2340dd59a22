import importlib

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from genlab.metrics.prdc import density_coverage, precision_recall, realism_scores

PRDC_MODULE = importlib.import_module("genlab.metrics.prdc")


def column(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)[:, None]


def reference_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The four metrics straight from their definitions on full numpy distance matrices (closed balls for
    precision/recall, open ones for density/coverage, as in the papers' code)."""

    def radii(x: np.ndarray) -> np.ndarray:
        d = cdist(x, x)
        np.fill_diagonal(d, np.inf)  # the sample itself is not its own neighbour
        return np.sort(d, axis=1)[:, k - 1]

    r_real, r_fake = radii(real), radii(fake)
    d = cdist(real, fake)  # (N, M)
    in_open = d < r_real[:, None]
    return {
        "precision": (d <= r_real[:, None]).any(axis=0).mean(),
        "recall": (d <= r_fake[None, :]).any(axis=1).mean(),
        "density": in_open.sum() / (k * len(fake)),
        "coverage": in_open.any(axis=1).mean(),
    }


def test_hand_built_1d_example():
    # k = 1. Real radii: 0 -> 1, 1 -> 1, 3 -> 2, 10 -> 1, 11 -> 1, so real balls are
    # [-1, 1], [0, 2], [1, 5], [9, 11], [10, 12].
    # Fake sorted -4, 0.5, 2.5, 6, 30 with radii 4.5, 2, 2, 3.5, 24: balls [-8.5, 0.5], [-1.5, 2.5], [0.5, 4.5],
    # [2.5, 9.5], [6, 54].
    real, fake = column(0, 1, 3, 10, 11), column(0.5, 2.5, 6, -4, 30)
    # precision: 0.5 and 2.5 are in real balls; 6, -4 and 30 are not -> 2/5.
    # recall: 0, 1, 3 are in the first three fake balls, 10 and 11 in the outlier's huge ball -> 1.
    assert precision_recall(real, fake, k=1) == pytest.approx({"precision": 0.4, "recall": 1.0})
    # density: 0.5 lies in 2 real balls, 2.5 in 1, the rest in none -> 3 / (1 * 5).
    # coverage: the balls of 0, 1, 3 hold a fake sample, those of 10 and 11 do not -> 3/5.
    assert density_coverage(real, fake, k=1) == pytest.approx({"density": 0.6, "coverage": 0.6})


def test_hand_built_2d_example():
    # Real: the unit square's corners; with k = 1 every radius is 1.
    real = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    fake = np.array([[0.5, 0.5], [3.0, 3.0], [1.0, 1.9]])
    # (0.5, 0.5) is 0.707 from every corner (in all 4 balls); (1, 1.9) is 0.9 from (1, 1) and 1.35 from (0, 1)
    # (in 1 ball); (3, 3) is 2.83 from the nearest corner (in none).
    # Fake radii (k = 1): 1.487, 2.283, 1.487; every corner is 0.707 from (0.5, 0.5), inside its ball.
    assert precision_recall(real, fake, k=1) == pytest.approx({"precision": 2 / 3, "recall": 1.0})
    assert density_coverage(real, fake, k=1) == pytest.approx({"density": 5 / 3, "coverage": 1.0})


def test_precision_recall_balls_are_closed_and_density_coverage_balls_open():
    # k = 1: real radii 2, 2 -> balls around 0 and 2 of radius 2. Fake 4 lies exactly on the second ball's boundary,
    # 5 outside; fake radii are 1, so neither real point is near enough a fake one.
    real, fake = column(0, 2), column(4, 5)
    assert precision_recall(real, fake, k=1) == {"precision": 0.5, "recall": 0.0}
    assert density_coverage(real, fake, k=1) == {"density": 0.0, "coverage": 0.0}
    assert density_coverage(real, column(3.999, 5), k=1) == {"density": 0.5, "coverage": 0.5}


def test_the_kth_neighbour_excludes_the_sample_itself_but_not_its_duplicates():
    # k = 2, real 0, 1, 3: the second-nearest *other* points give radii 3, 2, 3 (counting the point itself would
    # give 1, 1, 2), so balls (-3, 3), (-1, 3), (0, 6). 5.5 is only in 3's ball, -2.5 only in 0's; 1's ball is empty.
    assert density_coverage(column(0, 1, 3), column(5.5, -2.5), k=2) == (
        pytest.approx({"density": 2 / (2 * 2), "coverage": 2 / 3})
    )
    # k = 1, real 1, 1, 7: each copy of 1 has the other at distance 0, so radius 0: balls {1}, {1}, [1, 13].
    # Fake 1 is inside; 0.5 is in none (it would be if the copies' radii were 6). Fake radii are 0.5, so the
    # copies of 1 are in the fake manifold and 7 is not.
    assert precision_recall(column(1, 1, 7), column(1, 0.5), k=1) == pytest.approx({"precision": 0.5, "recall": 2 / 3})


def test_a_set_against_itself():
    x = np.random.default_rng(0).standard_normal((300, 8))
    assert precision_recall(x, x, k=3) == {"precision": 1.0, "recall": 1.0}
    # Each open real ball holds its centre and the k - 1 nearest neighbours; the k-th lies on the boundary (the
    # same distance computed twice, so only round-off tells them apart): density = k / k exactly.
    assert density_coverage(x, x, k=5) == {"density": 1.0, "coverage": 1.0}
    shifted = x + 1e3  # a large common offset: far more round-off in the distances without centring
    assert density_coverage(shifted, shifted, k=5) == {"density": 1.0, "coverage": 1.0}


@pytest.mark.parametrize(("k", "block", "n"), [(1, 16, 40), (3, 4000, 300), (5, PRDC_MODULE.BLOCK, 300)])
def test_equals_a_brute_force_numpy_reference_on_random_data(monkeypatch, k, block, n):
    monkeypatch.setattr(PRDC_MODULE, "BLOCK", block)  # small blocks exercise the chunking, down to blocks of k + 1 rows
    rng = np.random.default_rng(k)
    real = rng.standard_normal((n, 5))
    fake = rng.standard_normal((n - n // 6, 5)) * 1.2 + 0.3
    expected = reference_prdc(real, fake, k)
    got = {**precision_recall(real, fake, k=k), **density_coverage(real, fake, k=k)}
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0 < got["precision"] < 1 and 0 < got["recall"] < 1 and 0 < got["coverage"] < 1


def test_a_fake_set_in_one_corner_of_the_real_one_has_high_precision_and_low_recall():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((2000, 2))
    fake = rng.standard_normal((2000, 2)) * 0.1 + [0.5, 0.5]
    pr, dc = precision_recall(real, fake), density_coverage(real, fake)
    assert pr["precision"] > 0.95 and pr["recall"] < 0.2
    assert dc["coverage"] < 0.2
    # Density stays near 1: each fake point lies where real samples are, in about k real balls (balls shrink where
    # real samples crowd); it drops when fakes leave the real support, which these do not.
    assert 0.8 < dc["density"] < 1.2


def test_independent_samples_of_one_distribution_have_density_near_one_and_coverage_near_its_expectation():
    rng = np.random.default_rng(2)
    real, fake = rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8))
    dc = density_coverage(torch.from_numpy(real).float(), torch.from_numpy(fake).float(), k=5)
    # Naeem et al.: E[density] = 1 and, for equal set sizes, E[coverage] is about 1 - 2^-k.
    assert dc["density"] == pytest.approx(1.0, abs=0.1)
    assert dc["coverage"] == pytest.approx(1 - 2**-5, abs=0.02)


def test_bad_inputs_raise_clear_errors():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match=r"k=10 needs at least k \+ 1 = 11 samples in real"):
        density_coverage(x, x, k=10)
    with pytest.raises(ValueError, match="samples in fake"):
        precision_recall(np.random.default_rng(0).standard_normal((20, 4)), x[:3], k=3)
    with pytest.raises(ValueError, match="different dimensions"):
        precision_recall(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        precision_recall(np.zeros(10), x)
    with pytest.raises(ValueError, match="positive integer"):
        density_coverage(x, x, k=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        density_coverage(x, np.full((10, 4), np.nan))


def test_realism_score_by_hand_on_a_line():
    # Real points 0, 1, 3 with k = 1 have radii 1, 1, 2. Keeping every ball, the fake at 4.5 is scored by the
    # widest ball, 2 / 1.5; keeping the smaller half (the paper's pruning) it sees only 0 and 1: 1 / 3.5.
    real, fake = column(0, 1, 3), column(0.5, 4.5)
    every = realism_scores(real, fake, k=1, keep=1.0)
    assert every == pytest.approx([1 / 0.5, 2 / 1.5])
    pruned = realism_scores(real, fake, k=1, keep=0.5)
    assert pruned == pytest.approx([1 / 0.5, 1 / 3.5])
    assert realism_scores(real, column(1.0), k=1)[0] == np.inf  # a copy of a real sample
    with pytest.raises(ValueError, match="keep must be a fraction"):
        realism_scores(real, fake, keep=0)


def test_realism_of_at_least_one_is_precision_membership_when_every_ball_is_kept():
    gen = np.random.default_rng(3)
    real, fake = gen.normal(size=(300, 5)), gen.normal(0.7, 1.3, size=(200, 5))
    scores = realism_scores(real, fake, k=3, keep=1.0)
    assert (scores >= 1).mean() == pytest.approx(precision_recall(real, fake, k=3)["precision"])
    near, far = realism_scores(real, np.outer([0.0, 10.0], np.ones(5)), k=3)  # the centre and far away
    assert near > 1 > far
