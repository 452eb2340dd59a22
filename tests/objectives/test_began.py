import pytest
import torch

from genlab.objectives import OBJECTIVES


def test_losses_controller_and_convergence_measure_by_hand():
    began = OBJECTIVES.get("began")(gamma=0.5, lambda_k=0.1)
    real, fake = torch.tensor([0.4, 0.6]), torch.tensor([0.1, 0.3])  # L(x) = 0.5, L(G(z)) = 0.2
    assert began.d_loss(real, fake).item() == pytest.approx(0.5)  # k = 0 at first
    assert began.g_loss(fake).item() == pytest.approx(0.2)
    logged = began.observe(real, fake)
    # k <- clip(0 + 0.1 * (0.5 * 0.5 - 0.2), 0, 1) = 0.005; M = 0.5 + |0.25 - 0.2| = 0.55
    assert logged["began/k"].item() == pytest.approx(0.005)
    assert logged["began/M_global"].item() == pytest.approx(0.55)
    assert began.d_loss(real, fake).item() == pytest.approx(0.5 - 0.005 * 0.2)


def test_k_stays_in_unit_interval_and_round_trips_through_state():
    began = OBJECTIVES.get("began")(lambda_k=1.0)
    began.observe(torch.tensor([0.0]), torch.tensor([5.0]))  # gamma L(x) - L(G(z)) = -5
    assert began.k.item() == 0.0
    for _ in range(3):
        began.observe(torch.tensor([10.0]), torch.tensor([0.0]))
    assert began.k.item() == 1.0
    state = began.state_dict()
    fresh = OBJECTIVES.get("began")(lambda_k=1.0)
    fresh.load_state_dict(state)
    assert fresh.k.item() == 1.0
    copy = began.model_copy(deep=True)
    copy.observe(torch.tensor([0.0]), torch.tensor([5.0]))
    assert began.k.item() == 1.0 and copy.k.item() == 0.0  # recipes copy objectives: no shared state
