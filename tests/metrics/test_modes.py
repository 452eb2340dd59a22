import math

import numpy as np
import pytest
import torch

from genlab.data.toy import MIXTURES
from genlab.metrics import ModeStats, mode_stats

RING, GRID = MIXTURES["ring8"], MIXTURES["grid25"]


def test_points_on_five_of_25_means_cover_five_modes_all_high_quality():
    points = torch.tensor(GRID.means[[0, 3, 7, 12, 24]], dtype=torch.float32).repeat(2, 1)  # each mode twice
    stats = mode_stats(points, GRID)
    assert stats == ModeStats(modes_covered=5, num_modes=25, high_quality=1.0, reverse_kl=pytest.approx(math.log(5)))


def test_a_point_4_std_from_its_mean_is_not_high_quality_but_one_at_2_9_std_is():
    far, near = [1.04, 0.0], [1.0, 0.029]  # ring8 mode 0 sits at (1, 0), std 0.01
    assert mode_stats(np.array([far]), RING).as_dict() == {
        "modes_covered": 0,
        "num_modes": 8,
        "high_quality": 0.0,
        "reverse_kl": pytest.approx(math.nan, nan_ok=True),  # no high-quality point: undefined
    }
    stats = mode_stats(np.array([far, near]), RING)
    assert (stats.modes_covered, stats.high_quality) == (1, 0.5)
    assert stats.reverse_kl == pytest.approx(math.log(8))  # all mass on one of 8 modes


def test_uniform_coverage_has_zero_reverse_kl():
    stats = mode_stats(np.tile(RING.means, (3, 1)), RING)
    assert (stats.modes_covered, stats.high_quality) == (8, 1.0)
    assert stats.reverse_kl == pytest.approx(0.0, abs=1e-12)


def test_reverse_kl_of_a_hand_computed_histogram_counts_only_high_quality_points():
    m = RING.means
    good = np.array([m[0], m[0] + [0.005, 0.0], m[2], m[5]])  # histogram 2, 1, 1 -> p = 1/2, 1/4, 1/4
    bad = np.array([[3.0, 0.0]] * 4)  # nearest to mode 0 but 200 std away: must not count as mode 0
    stats = mode_stats(torch.from_numpy(np.concatenate([good, bad])), RING)
    # KL = 1/2 ln(8/2) + 2 * 1/4 ln(8/4) = ln 2 + 1/2 ln 2
    assert stats.reverse_kl == pytest.approx(1.5 * math.log(2))
    assert (stats.modes_covered, stats.num_modes, stats.high_quality) == (3, 8, 0.5)


def test_samples_must_match_the_mixture_dimension():
    with pytest.raises(ValueError, match=r"shape \(N, 2\).*got \(4, 3\)"):
        mode_stats(torch.zeros(4, 3), RING)
    with pytest.raises(ValueError, match=r"samples has 0 sample\(s\)"):
        mode_stats(torch.zeros(0, 2), RING)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nan_or_inf_points_are_refused_like_every_other_metric_input(bad):
    # All-NaN points used to give reverse KL NaN and "0 modes" without a word.
    with pytest.raises(ValueError, match="samples contains NaN or inf"):
        mode_stats(torch.full((4, 2), bad), RING)
    points = np.tile(RING.means, (2, 1))
    points[3, 1] = bad  # one bad point among good ones
    with pytest.raises(ValueError, match="NaN or inf"):
        mode_stats(points, RING)
