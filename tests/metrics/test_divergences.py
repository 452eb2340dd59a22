import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from genlab.metrics.divergences import emd, js_distance, js_divergence, kl_divergence, total_variation, wasserstein1

BINOMIAL = np.array([0.36, 0.48, 0.16])  # Binomial(2, 0.4) on {0, 1, 2}
UNIFORM = np.full(3, 1 / 3)


def test_binomial_against_uniform_worked_example():
    assert kl_divergence(BINOMIAL, UNIFORM) == pytest.approx(0.0852996, abs=1e-7)
    assert kl_divergence(UNIFORM, BINOMIAL) == pytest.approx(0.097455, abs=1e-6)
    assert js_divergence(BINOMIAL, UNIFORM) == pytest.approx(0.0224599, abs=1e-7)
    assert js_divergence(UNIFORM, BINOMIAL) == pytest.approx(js_divergence(BINOMIAL, UNIFORM), rel=1e-12)
    # (|0.36 - 1/3| + |0.48 - 1/3| + |0.16 - 1/3|) / 2 = (0.02667 + 0.14667 + 0.17333) / 2: the event {0, 1}
    assert total_variation(BINOMIAL, UNIFORM) == pytest.approx(0.52 / 3, abs=1e-12)
    assert total_variation(BINOMIAL, UNIFORM) == pytest.approx(BINOMIAL[:2].sum() - UNIFORM[:2].sum(), abs=1e-12)
    assert js_distance(BINOMIAL, UNIFORM) == pytest.approx(0.1498661, abs=1e-7)  # sqrt(0.0224599)


def test_two_unit_impulses_five_apart_worked_example():
    support = np.arange(6)
    p, q = np.eye(6)[0], np.eye(6)[5]
    assert kl_divergence(p, q) == math.inf
    assert js_divergence(p, q) == pytest.approx(math.log(2), rel=1e-15)
    assert js_distance(p, q) == pytest.approx(math.sqrt(math.log(2)), rel=1e-15)
    assert total_variation(p, q) == 1.0
    assert wasserstein1(support, support, p, q) == pytest.approx(5.0, rel=1e-12)
    assert wasserstein1([0.0], [5.0]) == pytest.approx(5.0)  # the same as samples


def test_counts_are_normalised_and_zero_mass_contributes_nothing():
    assert kl_divergence([36, 48, 16], [1, 1, 1]) == pytest.approx(kl_divergence(BINOMIAL, UNIFORM), rel=1e-12)
    # 0 log 0 = 0: p = (1/2, 1/2, 0) against q = (1/4, 1/4, 1/2) is ln 2, finite though q > 0 where p = 0.
    assert kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(math.log(2), rel=1e-12)
    assert kl_divergence(torch.tensor([0.2, 0.8]), np.array([0.2, 0.8])) == 0.0
    assert js_divergence([0.2, 0.8], [0.2, 0.8]) == 0.0


def test_js_is_bounded_by_ln2_on_random_distributions():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p, q = rng.dirichlet(np.full(5, 0.3)), rng.dirichlet(np.full(5, 0.3))
        assert 0.0 <= js_divergence(p, q) <= math.log(2)


def test_tv_and_js_distance_agree_with_scipy_and_obey_their_bounds():
    rng = np.random.default_rng(1)
    for _ in range(20):
        p, q, r = (rng.dirichlet(np.full(6, 0.5)) for _ in range(3))
        assert js_distance(p, q) == pytest.approx(jensenshannon(p, q), rel=1e-9)
        assert total_variation(p, q) == pytest.approx(0.5 * np.abs(p - q).sum(), rel=1e-12)
        assert total_variation(p, q) <= math.sqrt(kl_divergence(p, q) / 2) + 1e-12  # Pinsker
        assert js_distance(p, r) <= js_distance(p, q) + js_distance(q, r) + 1e-12  # a metric, unlike JS itself
    assert total_variation([3, 1], [1, 3]) == pytest.approx(0.5)  # counts are normalised
    with pytest.raises(ValueError, match="same support"):
        total_variation([0.5, 0.5], [1 / 3] * 3)


def test_wasserstein1_with_weights_matches_the_cdf_integral():
    # W1 = integral |F_u - F_v|: u = 0 or 1 with mass 1/2 each, v all at 1/2 -> |F_u - F_v| = 1/2 on [0, 1].
    assert wasserstein1([0.0, 1.0], [0.5]) == pytest.approx(0.5)
    # Weighted: u = {0: 3/4, 4: 1/4}, v = {0: 1/4, 4: 3/4}: half the mass moves 4 -> 2.
    assert wasserstein1([0, 4], [0, 4], [3, 1], [1, 3]) == pytest.approx(2.0)


def test_emd_of_a_permuted_and_shifted_copy_is_the_shift_norm():
    # Jensen: the mean matched distance is at least |mean shift| = |v|, and the identity matching attains it.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 3))
    v = np.array([0.3, -1.2, 2.0])
    y = x[rng.permutation(60)] + v
    assert emd(x, y) == pytest.approx(np.linalg.norm(v), rel=1e-12)
    assert emd(torch.from_numpy(x), torch.from_numpy(x[::-1].copy())) == 0.0


def test_emd_in_one_dimension_agrees_with_wasserstein1_on_equal_size_samples():
    rng = np.random.default_rng(2)
    u, v = rng.standard_normal(80), rng.exponential(size=80)
    assert emd(u, v) == pytest.approx(wasserstein1(u, v), rel=1e-12)
    assert emd(u[:, None], v[:, None]) == pytest.approx(wasserstein1(u, v), rel=1e-12)


def test_emd_hand_example_prefers_the_cheaper_matching():
    # Matching (0,0)->(0,1) and (2,0)->(2,1) costs 1 + 1; crossing costs 2 * sqrt(5).
    x, y = np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([[2.0, 1.0], [0.0, 1.0]])
    assert emd(x, y) == pytest.approx(1.0)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="negative entries"):
        kl_divergence([0.5, -0.1, 0.6], [1 / 3] * 3)
    with pytest.raises(ValueError, match="same support"):
        js_divergence([0.5, 0.5], [1 / 3] * 3)
    with pytest.raises(ValueError, match="sums to 0"):
        kl_divergence([0.0, 0.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="1-D vector"):
        kl_divergence(np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="one weight per point"):
        wasserstein1([0, 1], [0, 1], [1.0], None)
    with pytest.raises(ValueError, match="emd"):
        wasserstein1(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="equal-size"):
        emd(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        emd(np.zeros((3, 2)), np.zeros((3, 3)))


def test_emd_refuses_histograms_and_points_to_wasserstein1():
    # The impulses at 0 and 5 as probability vectors: as 1-D point sets both are {0, 0, 0, 0, 0, 1}, at EMD 0.
    p, q = np.eye(6)[0], np.eye(6)[5]
    with pytest.raises(ValueError, match=r"look like histograms.*wasserstein1\(support, support, x, y\)"):
        emd(p, q)
    assert wasserstein1(np.arange(6), np.arange(6), p, q) == pytest.approx(5.0)  # the distance they meant
    assert emd(p[:, None], q[:, None]) == 0.0  # explicit (N, 1) point sets are still points
    assert emd([0.5, 0.5], [0.25, 1.0]) == pytest.approx(0.375)  # 1-D samples: (0.25 + 0.5) / 2
