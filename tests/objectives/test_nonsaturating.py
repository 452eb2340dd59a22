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
    assert objective.readout(real).tolist() == pytest.approx([0.5, 0.75])


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


def test_one_sided_label_smoothing_targets_point_nine_on_reals_only():
    smoothed = NonSaturating(real_target=0.9)
    real, fake = torch.tensor([math.log(3)]), torch.tensor([-math.log(3)])  # D(x) = 3/4, D(G(z)) = 1/4
    expected = 0.5 * -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)) + 0.5 * -math.log(0.75)
    assert smoothed.d_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # D's optimum on a real sample is now D(x) = 0.9, a finite logit, instead of +infinity.
    logit = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.SGD([logit], lr=2.0)
    for _ in range(500):
        optimiser.zero_grad()
        smoothed.d_loss(logit, torch.tensor([-50.0])).backward()
        optimiser.step()
    assert torch.sigmoid(logit).item() == pytest.approx(0.9, abs=1e-3)
    assert smoothed.g_loss(fake) == NonSaturating().g_loss(fake)  # fakes are not smoothed


def test_label_smoothing_is_range_checked():
    from genlab.config import load_config
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"model.objective.real_target: must be in \(0.5, 1\]"):
        load_config({}, ["model.objective={name: nonsaturating, real_target: 1.5}"])
