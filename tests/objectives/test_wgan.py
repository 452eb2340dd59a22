import pytest
import torch
from torch import nn

from genlab.objectives import OBJECTIVES
from genlab.objectives.penalties import gradient_penalty, interpolate


def test_critic_and_generator_losses():
    wgan = OBJECTIVES.get("wgan")()
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([1.0, -1.0])
    assert wgan.d_loss(real, fake).item() == pytest.approx(0.0 - 3.0)  # E f(G(z)) - E f(x)
    assert wgan.g_loss(fake).item() == pytest.approx(0.0)
    assert wgan.g_loss(torch.tensor([1.0, 2.0])).item() == pytest.approx(-1.5)


def test_wgan_clips_every_critic_weight_after_a_step_and_wgan_gp_does_not():
    critic = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    nn.init.uniform_(critic[0].weight, -1, 1)
    wgan = OBJECTIVES.get("wgan")()
    assert wgan.clip == 0.01 and wgan.penalty(critic, torch.randn(2, 3), torch.randn(2, 3), 0) is None
    before = critic[0].weight.clone()
    wgan.after_d_step(critic)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    assert torch.equal(critic[0].weight, before.clamp(-0.01, 0.01))
    gp = OBJECTIVES.get("wgan-gp")()
    assert gp.clip is None and gp.gp_weight == 10
    weights = critic[0].weight.clone()
    gp.after_d_step(critic)
    assert torch.equal(critic[0].weight, weights)


def test_gradient_penalty_of_a_linear_critic_is_hand_computable():
    # f(x) = w.x has gradient w everywhere: the penalty is lambda * (|w| - 1)^2 whatever the interpolates.
    critic = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |w| = 5
    critic_fn = lambda x: critic(x).squeeze(1)  # noqa: E731
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    wgan_gp = OBJECTIVES.get("wgan-gp")()
    penalty = wgan_gp.penalty(critic_fn, real, fake, 0)
    assert penalty.item() == pytest.approx(10 * (5 - 1) ** 2)
    penalty.backward()  # differentiable w.r.t. the critic's weights: d/dw 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|
    assert critic.weight.grad[0].tolist() == pytest.approx([20 * 4 * 3 / 5, 20 * 4 * 4 / 5])
    assert gradient_penalty(critic_fn, real, target=0.0).item() == pytest.approx(25.0)


def test_interpolates_use_one_epsilon_per_sample_not_per_pixel():
    torch.manual_seed(0)
    real, fake = torch.ones(64, 3, 4, 4), torch.zeros(64, 3, 4, 4)
    points = interpolate(real, fake)
    eps = points.flatten(1)
    assert torch.allclose(eps, eps[:, :1].expand_as(eps))  # constant within a sample
    assert eps[:, 0].std() > 0.2  # but different across samples, uniform on [0, 1]
    assert eps.min() >= 0 and eps.max() <= 1
    real, fake = torch.randn(5, 7), torch.randn(5, 7)
    points = interpolate(real, fake)
    ratio = (points - fake) / (real - fake)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-4)  # on the segment fake -> real


def test_r1_penalty_is_taken_at_the_real_samples():
    # f(x) = |x|^2 has gradient 2x: at real points (1, 0) and (0, 2) the squared norms are 4 and 16.
    real, fake = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 2)
    r1 = OBJECTIVES.get("nonsaturating")(gp_weight=0.5, gp_target=0, gp_points="real")
    assert r1.penalty(lambda x: (x**2).sum(1), real, fake, 0).item() == pytest.approx(0.5 * (4 + 16) / 2)


def test_lazy_penalty_is_taken_every_k_th_d_step_with_k_times_the_weight():
    # R1 of f(x) = |x|^2 at (1, 0) and (0, 2): mean squared gradient norm (4 + 16) / 2 = 10, weight 0.5 -> 5 per step.
    real, fake = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 2)
    lazy = OBJECTIVES.get("nonsaturating")(gp_weight=0.5, gp_target=0, gp_points="real", penalty_every=3)
    values = [lazy.penalty(lambda x: (x**2).sum(1), real, fake, step) for step in range(7)]
    assert [v is None for v in values] == [False, True, True, False, True, True, False]
    assert [v.item() for v in values if v is not None] == pytest.approx([3 * 0.5 * 10] * 3)


def test_penalty_every_is_validated():
    from genlab.config import load_config
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"model.objective.penalty_every: must be .*1.* \(got 0\)"):
        load_config({}, ["model.objective={name: wgan-gp, penalty_every: 0}"])


def test_any_objective_can_take_the_penalty():
    from genlab.config import load_config

    cfg = load_config({}, ["model.objective={name: nonsaturating, gp_weight: 5, gp_target: 0}"])
    assert cfg.model.objective.gp_weight == 5 and cfg.model.objective.gp_target == 0


def test_drift_adds_epsilon_times_the_mean_squared_real_score():
    wgan_gp = OBJECTIVES.get("wgan-gp")(drift=0.001)
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([0.0, 1.0])
    # E f(G(z)) - E f(x) + eps E f(x)^2 = 0.5 - 3 + 0.001 * (4 + 16) / 2
    assert wgan_gp.d_loss(real, fake).item() == pytest.approx(0.5 - 3.0 + 0.01)
    assert wgan_gp.g_loss(fake).item() == pytest.approx(-0.5)  # G's loss has no drift term
