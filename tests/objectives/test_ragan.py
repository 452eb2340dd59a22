import math

import pytest
import torch

from genlab.objectives import OBJECTIVES


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_relativistic_average_losses_by_hand():
    ragan = OBJECTIVES.get("ragan")()
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])  # mean C(x_r) = 2, mean C(x_f) = -1
    # D: -mean log σ(C(x_r) + 1) - mean log(1 - σ(C(x_f) - 2)), and log(1 - σ(a)) = log σ(-a)
    d = -(log_sigmoid(2) + log_sigmoid(4)) / 2 - (log_sigmoid(2) + log_sigmoid(4)) / 2
    assert ragan.d_loss(real, fake).item() == pytest.approx(d, rel=1e-6)
    # G: the roles swap: -mean log σ(C(x_f) - 2) - mean log(1 - σ(C(x_r) + 1))
    g = -(log_sigmoid(-2) + log_sigmoid(-4)) / 2 - (log_sigmoid(-2) + log_sigmoid(-4)) / 2
    assert ragan.g_loss(fake, real).item() == pytest.approx(g, rel=1e-6)


def test_generator_loss_needs_the_real_scores_and_gets_gradient_through_them():
    ragan = OBJECTIVES.get("ragan")()
    assert ragan.uses_real_in_g_loss
    with pytest.raises(ValueError, match="real"):
        ragan.g_loss(torch.zeros(2))
    real = torch.tensor([1.0, 2.0], requires_grad=True)
    ragan.g_loss(torch.zeros(2), real).backward()
    assert (real.grad > 0).all()  # G's loss falls when reals look less real than fakes
