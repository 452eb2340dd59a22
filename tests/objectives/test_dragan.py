"""DRAGAN: the gradient penalty at real points perturbed by noise, by hand, and a short digits run that trains."""

import math

import pytest
import torch
from torch import nn

import genlab
from genlab.data import load_dataset
from genlab.metrics import nearest_neighbour_scores
from genlab.objectives import OBJECTIVES
from genlab.objectives.penalties import perturb


def test_dragan_is_the_nonsaturating_loss_with_the_penalty_at_perturbed_points():
    dragan = OBJECTIVES.get("dragan")()
    assert (dragan.gp_weight, dragan.gp_target, dragan.gp_points, dragan.gp_noise) == (10, 1, "perturbed", 0.5)
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 1.0])
    ns = OBJECTIVES.get("nonsaturating")()
    assert dragan.d_loss(real, fake) == ns.d_loss(real, fake) and dragan.g_loss(fake) == ns.g_loss(fake)


def test_perturbed_points_offset_is_alpha_times_c_std_u():
    # x̂ - x = α c s u with α, u ~ U[0, 1] independent: mean c s / 4, std c s sqrt(1/9 - 1/16), all in [0, c s].
    torch.manual_seed(0)
    real = 3.0 + 2.0 * torch.randn(4096, 8)
    s = real.std().item()
    offset = perturb(real, 0.5) - real
    assert offset.min() >= 0 and offset.max() <= 0.5 * s + 1e-5
    assert offset.mean().item() == pytest.approx(0.5 * s / 4, rel=0.02)
    assert offset.std().item() == pytest.approx(0.5 * s * math.sqrt(1 / 9 - 1 / 16), rel=0.02)
    # One α per sample: a sample's offsets share a factor, so their spread differs from sample to sample.
    per_sample_max = offset.max(dim=1).values / (0.5 * s)
    assert per_sample_max.std() > 0.2
    # The scale follows gp_noise and the data's spread, with the same draws.
    torch.manual_seed(1)
    small = perturb(real, 0.5) - real
    torch.manual_seed(1)
    large = perturb(3 * real, 2.0) - 3 * real
    assert torch.allclose(large, 12 * small, rtol=1e-4, atol=1e-4)


def test_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared():
    # D(x) = w.x has gradient w everywhere, perturbed or not: 10 (|w| - 1)^2 = 10 * 16 with |w| = 5.
    critic = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))
    dragan = OBJECTIVES.get("dragan")()
    penalty = dragan.penalty(lambda x: critic(x).squeeze(1), torch.randn(8, 2), torch.randn(8, 2), 0)
    assert penalty.item() == pytest.approx(160.0)
    penalty.backward()  # d/dw 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|
    assert critic.weight.grad[0].tolist() == pytest.approx([20 * 4 * 3 / 5, 20 * 4 * 4 / 5])


def test_penalty_of_a_quadratic_critic_by_hand_from_the_seeded_noise():
    # D(x) = |x|^2 / 2 has gradient x̂: the penalty is λ mean_i (|x̂_i| - 1)^2 with x̂ = x + α_i c s u_i.
    real, fake = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 2)
    values = [1.0, 0.0, 0.0, 2.0]
    mean = sum(values) / 4
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)  # the batch's (unbiased) std, one number
    torch.manual_seed(2)
    u, alpha = torch.rand(2, 2).tolist(), torch.rand(2).tolist()  # the draws perturb makes, in its order
    c, lam = 1.0, 2.0
    points = [[x + alpha[i] * c * s * u[i][j] for j, x in enumerate(row)] for i, row in enumerate(real.tolist())]
    expected = lam * sum((math.hypot(*p) - 1) ** 2 for p in points) / 2
    dragan = OBJECTIVES.get("dragan")(gp_weight=lam, gp_noise=c)
    torch.manual_seed(2)
    assert dragan.penalty(lambda x: 0.5 * (x**2).sum(1), real, fake, 0).item() == pytest.approx(expected, rel=1e-6)
    at_reals = lam * ((1 - 1) ** 2 + (2 - 1) ** 2) / 2  # the same penalty at the unperturbed points
    assert expected > 1.1 * at_reals, (expected, at_reals)  # the noise only moves points outwards here


def test_gp_noise_is_validated_and_gp_points_perturbed_works_on_any_objective():
    from genlab.config import load_config
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"model.objective.gp_noise: must be .*0.* \(got -1"):
        load_config({}, ["model.objective={name: dragan, gp_noise: -1}"])
    with pytest.raises(ConfigError, match=r"model.objective.gp_points"):
        load_config({}, ["model.objective={name: dragan, gp_points: noisy}"])
    cfg = load_config({}, ["model.objective={name: hinge, gp_weight: 1, gp_points: perturbed, gp_noise: 1}"])
    assert (cfg.model.objective.gp_points, cfg.model.objective.gp_noise) == ("perturbed", 1)


def test_short_dragan_digits_run_beats_the_untrained_generator(tmp_path):
    overrides = [
        "data.name=digits",
        "data.size=16",
        "train.steps=200",
        "train.batch_size=64",
        "model.z_dim=32",
        "model.generator.width=16",
        "model.discriminator.width=16",
        "device=cpu",
        "train.progress=false",
        "train.loggers=[jsonl]",
        "train.sample_every=0",
        "train.checkpoint_every=0",
    ]
    genlab.fit("dragan-mnist", overrides, out=tmp_path / "run")
    cfg = genlab.load_config(tmp_path / "run" / "config.yaml")
    assert cfg.model.objective.name == "dragan"
    real = load_dataset(cfg.data).images
    torch.manual_seed(cfg.seed)  # the initial weights the run started from
    untrained = cfg.model.build(tuple(real.shape[1:]), 10, torch.device("cpu"))
    trained = genlab.load_run(tmp_path / "run", device="cpu")
    before = nearest_neighbour_scores(untrained.sample(500, generator=torch.Generator().manual_seed(1)), real)
    after = nearest_neighbour_scores(trained.sample(500, generator=torch.Generator().manual_seed(1)), real)
    assert after["nn_fake_to_real"] < 0.6 * before["nn_fake_to_real"], (before, after)
    assert after["nn_real_to_fake"] < 0.6 * before["nn_real_to_fake"], (before, after)
