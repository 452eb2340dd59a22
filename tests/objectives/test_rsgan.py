import math

import pytest
import torch

from genlab.objectives import OBJECTIVES


def minus_log_sigmoid(x: float) -> float:
    return math.log(1 + math.exp(-x))


def test_pairwise_relativistic_losses_by_hand():
    rsgan = OBJECTIVES.get("rsgan")()
    real, fake = torch.tensor([1.0, 3.0, 0.5]), torch.tensor([0.0, 4.0, -1.5])
    # Pairs (1, 0), (3, 4), (0.5, -1.5): D's gaps 1, -1, 2; G's gaps the negatives.
    d = (minus_log_sigmoid(1) + minus_log_sigmoid(-1) + minus_log_sigmoid(2)) / 3
    g = (minus_log_sigmoid(-1) + minus_log_sigmoid(1) + minus_log_sigmoid(-2)) / 3
    assert rsgan.d_loss(real, fake).item() == pytest.approx(d, rel=1e-6)
    assert rsgan.g_loss(fake, real).item() == pytest.approx(g, rel=1e-6)
    # Pairwise, not averaged: ragan compares with the other batch's mean and gives another value here.
    assert OBJECTIVES.get("ragan")().d_loss(real, fake).item() != pytest.approx(d, rel=1e-3)


def test_large_logit_gaps_stay_finite():
    rsgan = OBJECTIVES.get("rsgan")()
    real, fake = torch.tensor([200.0, -200.0]), torch.tensor([-200.0, 200.0])
    # -log σ(400) ≈ e^-400 ≈ 0 and -log σ(-400) = 400 + log(1 + e^-400) ≈ 400: a naive log(sigmoid) gives inf.
    assert rsgan.d_loss(real, fake).item() == pytest.approx(200.0, rel=1e-6)
    assert rsgan.g_loss(fake, real).item() == pytest.approx(200.0, rel=1e-6)


def test_gradients_push_reals_above_their_fake_partners():
    rsgan = OBJECTIVES.get("rsgan")()
    real = torch.tensor([0.0, 1.0], requires_grad=True)
    fake = torch.tensor([0.0, 2.0], requires_grad=True)
    rsgan.d_loss(real, fake).backward()
    # d/dr softplus(f - r) / n = -σ(f - r) / n: pair 1 σ(0) = 1/2, pair 2 σ(1).
    assert real.grad.tolist() == pytest.approx([-0.5 / 2, -1 / (1 + math.exp(-1)) / 2], rel=1e-6)
    assert torch.allclose(fake.grad, -real.grad)
    real.grad, fake.grad = None, None
    rsgan.g_loss(fake, real).backward()
    assert (fake.grad < 0).all() and (real.grad > 0).all()  # G raises its fakes and lowers how real reals look


def test_generator_loss_needs_paired_real_scores():
    rsgan = OBJECTIVES.get("rsgan")()
    assert rsgan.uses_real_in_g_loss
    with pytest.raises(ValueError, match="real"):
        rsgan.g_loss(torch.zeros(2))
    with pytest.raises(ValueError, match="same size"):
        rsgan.d_loss(torch.zeros(3), torch.zeros(2))
