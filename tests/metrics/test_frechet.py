import numpy as np
import pytest
import scipy.linalg
import torch

from genlab.metrics.frechet import feature_statistics, fid_from_features, frechet_distance


def random_covariance(rng: np.random.Generator, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d + (0.0 if rank else 0.5) * np.eye(d)  # full rank: eigenvalues >= 0.5


def scipy_frechet(mu1, sigma1, mu2, sigma2) -> float:
    """The reference FID formula (TTUR / pytorch-fid) with scipy's general matrix square root."""
    root = scipy.linalg.sqrtm(sigma1 @ sigma2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root).real)


def test_feature_statistics_are_the_mean_and_the_unbiased_covariance():
    x = (np.random.default_rng(0).standard_normal((50, 4)) * [1, 2, 3, 4]).astype(np.float32)
    mu, sigma = feature_statistics(torch.tensor(x))  # float32 in, float64 out
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-12)


@pytest.mark.parametrize(("seed", "d"), [(0, 2), (1, 8), (2, 32)])
def test_matches_scipy_sqrtm_on_well_conditioned_covariances(seed, d):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    sigma1, sigma2 = random_covariance(rng, d), random_covariance(rng, d)
    value = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert value == pytest.approx(scipy_frechet(mu1, sigma1, mu2, sigma2), rel=1e-6)
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(value, rel=1e-9)  # symmetric


def test_commuting_covariances_give_the_closed_form():
    # Diagonal covariances commute: the trace term is sum sqrt(a_i b_i), so FID = |dmu|² + sum (sqrt a_i - sqrt b_i)².
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    expected = 5.0 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_one_dimensional_case_is_mean_and_std_differences_squared():
    m1, s1, m2, s2 = 0.3, 2.0, -1.2, 0.5
    expected = (m1 - m2) ** 2 + (s1 - s2) ** 2
    assert frechet_distance(np.array([m1]), np.array([[s1**2]]), np.array([m2]), np.array([[s2**2]])) == (
        pytest.approx(expected, rel=1e-12)
    )
    assert frechet_distance(m1, s1**2, m2, s2**2) == pytest.approx(expected, rel=1e-12)  # scalars work too

    rng = np.random.default_rng(3)
    x, y = rng.normal(1.0, 2.0, (400, 1)), rng.normal(-1.0, 0.5, (300, 1))
    closed = (x.mean() - y.mean()) ** 2 + (x.std(ddof=1) - y.std(ddof=1)) ** 2
    assert fid_from_features(x, y) == pytest.approx(closed, rel=1e-10)


def test_identical_sets_are_at_distance_zero():
    x = np.random.default_rng(4).standard_normal((500, 16))
    value = fid_from_features(x, torch.tensor(x))
    assert 0.0 <= value < 1e-10
    assert fid_from_features(x[:10], x[:10]) < 1e-10  # rank-deficient (10 samples in 16-D) as well


def test_rank_deficient_covariances_give_a_finite_real_value_close_to_scipy():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((20, 32)), rng.standard_normal((24, 32)) + 0.3  # N < D: singular covariances
    (mu1, sigma1), (mu2, sigma2) = feature_statistics(x), feature_statistics(y)
    assert np.linalg.matrix_rank(sigma1) == 19
    value = fid_from_features(x, y)
    assert isinstance(value, float) and np.isfinite(value)
    assert value == pytest.approx(scipy_frechet(mu1, sigma1, mu2, sigma2), rel=1e-4)

    # Both singular with a common null space: only the overlap of the supports matters.
    s1, s2 = random_covariance(rng, 32, rank=5), random_covariance(rng, 32, rank=5)
    assert np.isfinite(frechet_distance(np.zeros(32), s1, np.zeros(32), s2))


def test_translating_one_set_by_v_adds_exactly_its_squared_norm():
    # Translation leaves the covariance alone and moves the mean: for sets with equal means the mean term
    # goes from 0 to |v|², so the FID grows by exactly |v|².
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((300, 8)), rng.standard_normal((200, 8)) * 1.5
    y = y - y.mean(axis=0) + x.mean(axis=0)
    v = rng.standard_normal(8) * 3
    assert fid_from_features(x, x + v) == pytest.approx(v @ v, rel=1e-10)
    assert fid_from_features(x, y + v) == pytest.approx(fid_from_features(x, y) + v @ v, rel=1e-10)


def test_bad_shapes_raise_clear_errors():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match="different dimensions"):
        fid_from_features(x, np.zeros((10, 5)))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        fid_from_features(np.zeros(10), x)
    with pytest.raises(ValueError, match="needs at least 2"):
        feature_statistics(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="NaN or inf"):
        fid_from_features(x, np.full((10, 4), np.nan))
    with pytest.raises(ValueError, match=r"sigma2 shape \(D, D\)"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="different dimensions"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_covariances_that_are_not_symmetric_psd_are_refused():
    # -I against I: the trace term clipped the eigenvalues of -I to 0 and returned 0.0 (by hand: tr(-I) + tr(I) - 0).
    with pytest.raises(ValueError, match=r"sigma1 is not positive semi-definite \(smallest eigenvalue -1\)"):
        frechet_distance(np.zeros(3), -np.eye(3), np.zeros(3), np.eye(3))
    # S1 singular, S2 = diag(1, -1): its negative direction lies in S1's null space, unseen by the trace term.
    with pytest.raises(ValueError, match="sigma2 is not positive semi-definite"):
        frechet_distance(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="sigma1 is not symmetric"):
        frechet_distance(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        frechet_distance(0.0, -1.0, 0.0, 1.0)  # a negative variance in 1-D


def test_round_off_asymmetry_and_negative_eigenvalues_are_accepted():
    rng = np.random.default_rng(7)
    s = random_covariance(rng, 16, rank=4)  # PSD with 12 zero eigenvalues, some a few ulps below 0 after eigh
    noisy = s + 1e-12 * rng.standard_normal(s.shape)
    assert frechet_distance(np.zeros(16), noisy, np.zeros(16), s) == pytest.approx(0.0, abs=1e-5)
    # diag(4, 0) against diag(1, 0) by hand: (2 - 1)^2 = 1.
    assert frechet_distance(np.zeros(2), np.diag([4.0, 0.0]), np.zeros(2), np.diag([1.0, 0.0])) == pytest.approx(1.0)
