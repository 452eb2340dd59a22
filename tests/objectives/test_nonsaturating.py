import math

import pytest
import torch

from genlab.objectives import OBJECTIVES
from genlab.objectives.nonsaturating import NonSaturating


def test_registered_under_its_name():
    assert OBJECTIVES.get("nonsaturating") is NonSaturating


def test_losses_on_hand_computed_logits():
    # D(x) = sigmoid(logit): logit 0 -> 1/2, logit ln 3 -> 3/4, logit -ln 3 -> 1/4.
    real = torch.tensor([0.0, math.log(3)])
    fake = torch.tensor([-math.log(3), 0.0])
    objective = NonSaturating()
    # J(D) = -1/2 mean log D(x) - 1/2 mean log(1 - D(G(z)))
    expected_d = -0.5 * (math.log(0.5) + math.log(0.75)) / 2 - 0.5 * (math.log(0.75) + math.log(0.5)) / 2
    assert objective.d_loss(real, fake).item() == pytest.approx(expected_d, rel=1e-6)
    # J(G) = -mean log D(G(z)) = -(log 1/4 + log 1/2) / 2
    assert objective.g_loss(fake).item() == pytest.approx(-(math.log(0.25) + math.log(0.5)) / 2, rel=1e-6)
    assert objective.probability(real).tolist() == pytest.approx([0.5, 0.75])


def test_optimum_and_stability_at_extreme_logits():
    objective = NonSaturating()
    # The perfect discriminator drives its loss to 0; the ignorant one (D = 1/2 everywhere) sits at ln 2.
    assert objective.d_loss(torch.tensor([50.0]), torch.tensor([-50.0])).item() == pytest.approx(0, abs=1e-12)
    assert objective.d_loss(torch.zeros(3), torch.zeros(3)).item() == pytest.approx(math.log(2))
    # Non-saturating: a confidently rejected fake still gets a unit-size gradient (the minimax loss would not).
    fake = torch.tensor([-100.0], requires_grad=True)
    loss = objective.g_loss(fake)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() == pytest.approx(100.0)
    assert fake.grad.item() == pytest.approx(-1.0)
