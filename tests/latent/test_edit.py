"""Classifier-guided edits on a model whose gradients are known by hand."""

import pytest
import torch

from genlab.errors import ConfigError
from genlab.latent.edit import class_log_prob, guided_edit

# "G" is the identity on 2-D points; the "classifier" has logits (x0, -x0): class 0 wins on the right.
decode = torch.nn.Identity()


def logits(x):
    return torch.stack([x[:, 0], -x[:, 0]], dim=1)


def test_one_step_is_z_plus_lr_times_the_gradient_of_the_log_probability():
    z = torch.tensor([[-1.0, 0.3]])
    result = guided_edit(decode, class_log_prob(logits, 0), z, lr=0.5, p=0.999, max_steps=1, normalize=False)
    # log softmax_0 = 2 x0 - log(e^{2 x0} + 1) up to the shared shift: d/dx0 = 2 (1 - sigmoid(2 x0))
    grad = 2 * (1 - torch.sigmoid(torch.tensor(-2.0)))
    assert torch.allclose(result.z_after, torch.tensor([[-1.0 + 0.5 * grad, 0.3]]))
    assert not result.success.item() and result.steps.item() == 1


def test_edits_stop_once_the_target_probability_is_reached():
    z = torch.tensor([[-2.0, 0.0], [-0.5, 1.0], [3.0, 0.0]])
    result = guided_edit(decode, class_log_prob(logits, 0), z, lr=0.5, p=0.9, max_steps=100, normalize=False)
    assert result.success.all() and result.already.tolist() == [False, False, True]
    probs = torch.sigmoid(2 * result.z_after[:, 0])
    assert (probs >= 0.9).all()
    # Stopped at the first step past p: one step back the probability was still below it.
    assert (torch.sigmoid(2 * (result.z_after[:2, 0] - 0.5 * 2 * (1 - probs[:2]))) < 0.9).all()
    assert result.steps[0] > result.steps[1] > 0 and torch.equal(result.z_after[2], z[2])
    summary = result.summary()
    assert summary["edited"] == 2 and summary["already_target"] == 1 and summary["success_rate"] == 1.0


def test_a_budget_too_small_reports_failures_without_nan_means():
    z = torch.tensor([[-5.0, 0.0]])
    result = guided_edit(decode, class_log_prob(logits, 0), z, lr=0.1, p=0.9, max_steps=3, normalize=False)
    summary = result.summary()
    assert not result.success.any() and summary["success_rate"] == 0.0 and summary["succeeded"] == 0
    assert summary["mean_steps"] is summary["mean_dz"] is summary["mean_dz_relative"] is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"p": 1.0}, r"p must be in \(0, 1\), got 1.0"),
        ({"lr": 0.0}, "lr must be > 0, got 0.0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
        ({"max_steps": -1}, "max_steps must be >= 0, got -1"),
    ],
)
def test_settings_out_of_range_are_refused_by_name(settings, message):
    with pytest.raises(ConfigError, match=message):
        guided_edit(decode, class_log_prob(logits, 0), torch.zeros(1, 2), **settings)


def test_normalised_steps_have_length_lr_whatever_the_gradient():
    z = torch.tensor([[-4.0, 0.0], [-0.2, 0.0]])  # gradients 2 (1 - sigmoid(2 x0)): about 2 and 1.2
    result = guided_edit(decode, class_log_prob(logits, 0), z, lr=0.3, p=0.9999, max_steps=2)
    assert torch.allclose(result.z_after - z, torch.tensor([[0.6, 0.0], [0.6, 0.0]]))
