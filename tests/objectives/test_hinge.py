import pytest
import torch

from genlab.objectives import OBJECTIVES


def test_hinge_losses():
    hinge = OBJECTIVES.get("hinge")()
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])
    # D: mean relu(1 - r) + mean relu(1 + f) = (0 + 0.5)/2 + (0 + 1)/2
    assert hinge.d_loss(real, fake).item() == pytest.approx(0.75)
    assert hinge.g_loss(fake).item() == pytest.approx(1.5)


def test_samples_beyond_the_margin_give_d_no_gradient():
    real, fake = torch.tensor([1.5], requires_grad=True), torch.tensor([-1.5], requires_grad=True)
    OBJECTIVES.get("hinge")().d_loss(real, fake).backward()
    assert real.grad.item() == 0 and fake.grad.item() == 0
