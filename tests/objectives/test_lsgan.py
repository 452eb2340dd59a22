import pytest
import torch

from genlab.objectives import OBJECTIVES


def test_least_squares_losses_with_the_seed_targets():
    objective = OBJECTIVES.get("lsgan")()
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.5, -1.0])
    # D: 1/2 mean (D(x) - 1)^2 + 1/2 mean D(G(z))^2 = 1/2 * (0 + 1)/2 + 1/2 * (0.25 + 1)/2
    assert objective.d_loss(real, fake).item() == pytest.approx(0.25 + 0.3125)
    # G: 1/2 mean (D(G(z)) - 1)^2 = 1/2 * (0.25 + 4) / 2
    assert objective.g_loss(fake).item() == pytest.approx(1.0625)
    assert objective.readout(fake).tolist() == [0.5, -1.0]  # raw scores, no sigmoid


def test_a_correctly_classified_but_distant_fake_still_gets_a_gradient():
    fake = torch.tensor([-5.0], requires_grad=True)  # far on the fake side
    OBJECTIVES.get("lsgan")().g_loss(fake).backward()
    assert fake.grad.item() == pytest.approx(-6.0)
