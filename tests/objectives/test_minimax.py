import math

import pytest
import torch

from genlab.objectives import OBJECTIVES
from genlab.objectives.nonsaturating import NonSaturating


def test_g_minimises_log_one_minus_d_and_saturates_when_d_rejects_fakes():
    objective = OBJECTIVES.get("minimax")()
    fake = torch.tensor([-math.log(3), 0.0], requires_grad=True)  # D(G(z)) = 1/4, 1/2
    loss = objective.g_loss(fake)
    assert loss.item() == pytest.approx((math.log(0.75) + math.log(0.5)) / 2, rel=1e-6)
    loss.backward()
    # d/dl log(1 - σ(l)) = -σ(l), averaged over 2 samples.
    assert fake.grad.tolist() == pytest.approx([-0.25 / 2, -0.5 / 2])
    rejected = torch.tensor([-30.0], requires_grad=True)
    objective.g_loss(rejected).backward()
    assert abs(rejected.grad.item()) < 1e-12  # the saturation the non-saturating loss fixes


def test_d_loss_is_the_non_saturating_one():
    real, fake = torch.tensor([0.3, -1.2]), torch.tensor([2.0, 0.1])
    assert OBJECTIVES.get("minimax")().d_loss(real, fake) == NonSaturating().d_loss(real, fake)
