import math

import numpy as np
import pytest
import torch

from genlab.metrics.inception_score import inception_score


def test_confident_predictions_spread_evenly_over_ten_classes_score_ten():
    probs = np.tile(np.eye(10), (10, 1))  # 100 one-hot rows; each split of 10 holds every class once
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_identical_predictions_score_one():
    row = np.random.default_rng(0).dirichlet(np.ones(7))
    mean, std = inception_score(np.tile(row, (50, 1)), splits=5)
    assert mean == pytest.approx(1.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_hand_computed_two_class_example():
    # p(y) = (3/4, 1/4); KL of [1, 0] is ln(4/3), of [1/2, 1/2] is (ln(2/3) + ln 2) / 2 = ln(4/3) / 2.
    # Mean KL = (3/4) ln(4/3), so IS = (4/3)^(3/4) = 1.2408...
    mean, std = inception_score(np.array([[1.0, 0.0], [0.5, 0.5]]), splits=1)
    assert mean == pytest.approx((4 / 3) ** 0.75, rel=1e-12)
    assert std == 0.0


def test_splits_are_consecutive_chunks_and_the_std_is_over_splits():
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, 0.7], [0.3, 0.7]])  # split scores 2 and 1
    assert inception_score(probs, splits=2) == pytest.approx((1.5, 0.5), rel=1e-12)

    # 5 rows in 2 splits: rows [0, 2) and [2, 5) as in the original code (i * N // splits): scores 2 and 1.
    # (Chunks [0, 3) and [3, 5) would give (1.5² * 3)^(1/3) = 1.89 and 1 instead.)
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert inception_score(probs, splits=2) == pytest.approx((1.5, 0.5), rel=1e-12)


def test_float32_softmax_tensors_are_accepted_and_agree_with_float64():
    logits = torch.randn(200, 10, generator=torch.Generator().manual_seed(0)) * 3
    probs32 = torch.softmax(logits, dim=1)
    probs64 = torch.softmax(logits.double(), dim=1).numpy()
    result = inception_score(probs32, splits=4)
    assert all(isinstance(v, float) for v in result)
    assert result == pytest.approx(inception_score(probs64, splits=4), rel=1e-5)
    assert 1.0 < result[0] < 10.0


def test_bad_inputs_raise_clear_errors():
    logits = np.random.default_rng(0).standard_normal((20, 10))
    with pytest.raises(ValueError, match=r"look like logits.*softmax"):
        inception_score(logits)
    with pytest.raises(ValueError, match="look like logits"):
        inception_score(np.full((20, 10), 0.2))  # non-negative but rows sum to 2
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.eye(4), splits=5)
    with pytest.raises(ValueError, match=r"shape \(N, K\)"):
        inception_score(np.ones(10) / 10)
    with pytest.raises(ValueError, match="NaN"):
        inception_score(np.full((3, 2), math.nan))
