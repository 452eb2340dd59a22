"""optimal-d: D trained with G frozen matches D* = p_data / (p_data + p_g) within 0.05; an untrained D does not."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from scipy.stats import norm

from genlab.lab import run_lab
from genlab.lab.optimal_d import measure_gap, optimal_discriminator, optimal_loss, train_discriminator


def test_optimal_discriminator_is_the_density_ratio_by_hand():
    # At x = 1.5: p_data = 0.5 N(1.5; 1.5, 0.5) + 0.5 N(1.5; -1.5, 0.5), p_g = N(1.5; 0, 1.2).
    real = 0.5 / (0.5 * np.sqrt(2 * np.pi)) * (1 + np.exp(-(3.0**2) / (2 * 0.25)))
    fake = np.exp(-(1.5**2) / (2 * 1.44)) / (1.2 * np.sqrt(2 * np.pi))
    assert optimal_discriminator(np.array([1.5]))[0] == pytest.approx(real / (real + fake), rel=1e-12)


def test_optimal_loss_is_ln2_minus_js():
    # Independent check of the floor: JS(p_data, p_g) by a separate Riemann sum with scipy's pdfs.
    x = np.linspace(-12, 12, 200001)
    p = 0.5 * norm.pdf(x, -1.5, 0.5) + 0.5 * norm.pdf(x, 1.5, 0.5)
    q = norm.pdf(x, 0, 1.2)
    m = (p + q) / 2
    js = 0.5 * np.sum(p * np.log(p / m) + q * np.log(q / m)) * (x[1] - x[0])
    assert optimal_loss() == pytest.approx(np.log(2) - js, abs=1e-6)


@pytest.mark.parametrize("steps", [0, 10])
def test_an_untrained_discriminator_is_far_from_optimal(steps):
    net, _ = train_discriminator(steps, seed=0)
    assert measure_gap(net).numbers()["max_gap"] > 0.2


def test_trained_discriminator_matches_d_star(tmp_path):
    result = run_lab("optimal-d", tmp_path, seed=0)
    saved = json.loads((tmp_path / "optimal-d.json").read_text())
    assert saved["max_gap"] < 0.05
    assert 0 < saved["mean_gap"] <= saved["max_gap"]
    lo, hi = saved["gap_range"]
    assert -4 < lo < -3 and 3 < hi < 4  # where max(p_data, p_g) >= 1% of its peak: |x| <~ 3.57
    # The trained minibatch loss sits near its floor 2 ln 2 - 2 JS (minibatch noise allows a few hundredths).
    assert abs(saved["final_loss"] - saved["optimal_loss"]) < 0.025  # half-sum convention of genlab objectives
    with Image.open(tmp_path / "optimal-d.png") as image:
        assert image.size[0] > 300
    assert result.files[-1] == tmp_path / "optimal-d.json"
