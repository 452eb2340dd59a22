"""critic-field: a saturated GAN discriminator starves G of gradient at the fakes; a WGAN-GP critic does not.

One run of the experiment (both the far-apart case and the overlapping control) is shared by the tests. Besides
the issue's ratio >= 10, the measured gradients are checked against closed forms: the WGAN-GP critic of two
equal-width Gaussians is linear with slope 1 + Δ/20 (Δ the distance of the means, 20 = 2 x the penalty weight),
and in the overlapping control the optimal discriminator has logit k (x - midpoint) with k = Δ/σ², so the
minimax gradient at the fakes is E[k σ(k (x - midpoint))].
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from genlab.lab import run_lab
from genlab.lab.critic_field import CONTROL_FAKE_MEAN, FAKE_MEAN, REAL_MEAN, STD, train_critic


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("critic-field")
    return out, run_lab("critic-field", out, seed=0)


def test_critic_gradient_is_at_least_10x_the_saturated_minimax_gradient(lab):
    _, result = lab
    numbers = result.numbers
    assert numbers["d_fake_mean"] < 1e-3, "D should confidently reject the fakes (saturated)"
    assert numbers["ratio"] >= 10
    assert numbers["ratio"] == pytest.approx(numbers["critic_grad_mean"] / numbers["d_grad_mean"])


def test_critic_slope_matches_the_linear_wgan_gp_optimum(lab):
    numbers = lab[1].numbers
    for prefix, fake_mean in (("", FAKE_MEAN), ("control_", CONTROL_FAKE_MEAN)):
        slope = 1 + (REAL_MEAN - fake_mean) / 20
        assert numbers[f"{prefix}critic_grad_mean"] == pytest.approx(slope, abs=0.1)


def test_overlapping_control_cannot_saturate_so_the_ratio_is_about_one(lab):
    # With fakes 2/3 sigma from the reals, D* stays near 1/2 at the fakes, so log(1 - D) keeps a slope of order 1.
    numbers = lab[1].numbers
    k = (REAL_MEAN - CONTROL_FAKE_MEAN) / STD**2
    x = CONTROL_FAKE_MEAN + STD * np.random.default_rng(1).standard_normal(200_000)
    expected = np.mean(k / (1 + np.exp(-k * (x - (REAL_MEAN + CONTROL_FAKE_MEAN) / 2))))
    assert numbers["control_d_grad_mean"] == pytest.approx(expected, rel=0.1)
    assert 0.3 < numbers["control_d_fake_mean"] < 0.6
    assert numbers["control_ratio"] < 2
    assert numbers["ratio"] > 100 * numbers["control_ratio"]


def test_files_exist_and_open(lab):
    out, result = lab
    with Image.open(out / "critic-field.png") as image:
        assert image.size[0] > 300 and image.size[1] > 300
    saved = json.loads((out / "critic-field.json").read_text())
    assert saved["ratio"] == pytest.approx(result.numbers["ratio"])
    assert all(path.exists() for path in result.files)


def test_equal_means_are_rejected():
    with pytest.raises(ValueError, match="differ"):
        train_critic(1.0, 1.0, steps=1)
