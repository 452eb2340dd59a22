"""The two-stochastic-layer VAE/IWAE (model.hierarchy, Burda et al. 2016): its ELBO by hand, the importance weights
over both layers, the bound rising with k on a trained model, active units per layer and the likelihood command."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import genlab
from genlab.config import load_config
from genlab.data import Batch
from genlab.errors import GenlabError
from genlab.export import export_generator
from genlab.models.vae import VAE, importance_bound, latent_usage

from ..train.helpers import train
from .test_vae import mnist_test_target


def log_normal(z: float, mu: float, var: float) -> float:
    return -0.5 * (math.log(2 * math.pi * var) + (z - mu) ** 2 / var)


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def linear(weight: list[list[float]], bias: list[float]) -> nn.Linear:
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight)), layer.bias.copy_(torch.tensor(bias))
    return layer


def hand_set_vae() -> VAE:
    """Two pixels, one unit per layer: q(z1|x) = N(0.5, 1), q(z2|z1) = N(2 z1, 1/4), p(z1|z2) = N(z2 / 2, 1),
    p(z2) = N(0, 1), p(x|z1) Bernoulli with logits (z1, -z1)."""
    cfg = load_config({"model": {"recipe": "vae", "z_dim": 1, "coder": {"arch": "mlp"}, "hierarchy": {"z_dim": 1}}})
    vae = VAE(cfg.model, (2,), torch.device("cpu"))
    vae.encoder = linear([[0.0, 0.0], [0.0, 0.0]], [0.5, 0.0])
    vae.decoder = linear([[1.0], [-1.0]], [0.0, 0.0])
    vae.networks["infer_z2"] = linear([[2.0], [0.0]], [0.0, math.log(0.25)])
    vae.networks["prior_z1"] = linear([[0.5], [0.0]], [0.0, 0.0])
    return vae


def test_the_two_layer_elbo_equals_a_hand_computed_value():
    torch.manual_seed(0)
    e1, e2 = torch.randn(1).item(), torch.randn(1).item()  # the draws of z1, then of z2, as the step makes them
    z1 = 0.5 + e1
    z2 = 2 * z1 + 0.5 * e2
    # x = (1, 0): log p(x|z1) = log σ(z1) + log(1 - σ(-z1)) = 2 log σ(z1)
    elbo = 2 * log_sigmoid(z1) + log_normal(z1, z2 / 2, 1) + log_normal(z2, 0, 1)
    elbo -= log_normal(z1, 0.5, 1) + log_normal(z2, 2 * z1, 0.25)
    vae = hand_set_vae()
    torch.manual_seed(0)
    metrics = vae.train_step(lambda: Batch(torch.tensor([[1.0, -1.0]]), None), step=0)
    assert metrics["elbo"].item() == pytest.approx(elbo, abs=1e-5)
    assert metrics["loss/vae"].item() == pytest.approx(-elbo, abs=1e-5)
    assert metrics["reconstruction"].item() == pytest.approx(2 * log_sigmoid(z1), abs=1e-6)


def test_the_iwae_bound_averages_the_weights_over_both_layers():
    # k = 3: log (1/3) sum_i w_i with log w_i the hand-computed two-layer log weight of draw i.
    vae, target = hand_set_vae(), torch.tensor([[1.0, 0.0]])
    torch.manual_seed(1)
    e1, e2 = torch.randn(3).tolist(), torch.randn(3).tolist()
    logs = []
    for a, b in zip(e1, e2, strict=True):
        z1 = 0.5 + a
        z2 = 2 * z1 + 0.5 * b
        logs.append(
            2 * log_sigmoid(z1)
            + log_normal(z1, z2 / 2, 1)
            + log_normal(z2, 0, 1)
            - log_normal(z1, 0.5, 1)
            - log_normal(z2, 2 * z1, 0.25)
        )
    expected = math.log(sum(math.exp(v) for v in logs) / 3)
    torch.manual_seed(1)
    assert importance_bound(vae, target, 3).item() == pytest.approx(expected, abs=1e-5)


def test_active_units_are_counted_per_layer():
    # mu1 = (x1, 0): unit 1 of z1 follows the image, unit 2 does not. q(z2|z1)'s mean is (3 z1_1, 0.001 z1_2), so
    # E_q[z2 | x] = (3 x1, 0): one active unit in each layer, two in all.
    cfg = load_config({"model": {"recipe": "vae", "z_dim": 2, "coder": {"arch": "mlp"}, "hierarchy": {"z_dim": 2}}})
    vae = VAE(cfg.model, (2,), torch.device("cpu"))
    vae.encoder = linear([[1.0, 0], [0, 0], [0, 0], [0, 0]], [0.0, 0, -20, -20])  # q(z1|x) nearly a point
    vae.networks["infer_z2"] = linear([[3.0, 0], [0, 0.001], [0, 0], [0, 0]], [0.0, 0, -9, -9])
    images = torch.randint(0, 2, (200, 2)).float() * 2 - 1
    usage = latent_usage(vae, images)
    assert usage["active_units_per_layer"] == [1, 1] and usage["active_units"] == 2
    assert usage["activity"] == pytest.approx([9 * images[:, 0].var(correction=0).item(), 0.0], abs=0.05)
    assert "kl_per_dim" not in usage  # z1's prior p(z1|z2) has no closed-form KL per unit


MNIST_TWO_LAYERS = (
    "model.z_dim=20",
    "model.hierarchy={z_dim: 10, width: 50}",
    "train.steps=1000",
    "train.progress=false",
    "train.sample_every=0",
    "device=cpu",
    "doctor.enabled=false",
)


@pytest.fixture(scope="module")
def trained_two_layer(mnist_dir, tmp_path_factory):
    """vae-mnist (200-200 tanh, dynamic binarisation) with layers of 20 then 10 units, on the ELBO, 1,000 steps."""
    return train(load_config("vae-mnist", list(MNIST_TWO_LAYERS)), tmp_path_factory.mktemp("vae2") / "run")


def test_the_two_layer_bound_rises_with_k_and_beats_the_untrained_model(trained_two_layer):
    target = mnist_test_target()
    torch.manual_seed(0)
    bounds = {k: importance_bound(trained_two_layer.recipe, target, k, chunk=50).mean().item() for k in (1, 5, 50)}
    assert bounds[1] < bounds[5] < bounds[50], bounds
    assert bounds[50] - bounds[1] > 1.0, bounds  # nats: a real gap, far beyond sampling noise
    untrained = load_config("vae-mnist", list(MNIST_TWO_LAYERS)).model.build((1, 28, 28), None, torch.device("cpu"))
    assert importance_bound(untrained, target, 50).mean().item() < bounds[50] - 100


def test_a_two_layer_run_trains_all_its_networks_logs_both_layers_and_samples(trained_two_layer):
    record, recipe = trained_two_layer.last_record, trained_two_layer.recipe
    assert record["active_units"] == pytest.approx(record["active_units/z1"] + record["active_units/z2"])
    assert record["active_units/z1"] >= 1
    fresh = load_config("vae-mnist", list(MNIST_TWO_LAYERS)).model.build((1, 28, 28), None, torch.device("cpu"))
    for name in ("infer_z2", "prior_z1"):  # the upper layers are in the optimiser: they moved from their init
        trained, initial = recipe.networks[name].state_dict(), fresh.networks[name].state_dict()
        assert not torch.equal(trained["0.weight"], initial["0.weight"]), name
    assert recipe.z_dim == 10 and recipe.encode(mnist_test_target(3) * 2 - 1).shape == (3, 10)
    drawn = recipe.sample(5, generator=torch.Generator().manual_seed(0))
    assert drawn.shape == (5, 1, 28, 28) and drawn.min() >= -1 and drawn.max() <= 1


def test_the_likelihood_of_a_two_layer_run_and_its_export_refusal(trained_two_layer, tmp_path):
    run = trained_two_layer.run.path
    result = genlab.likelihood(run, k=50, n=100, device="cpu", out=tmp_path / "nll.json")
    assert result["n"] == 100 and result["elbo"] < -result["nll"] < 0
    assert len(result["active_units_per_layer"]) == 2
    again = genlab.likelihood(run, k=50, n=100, device="cpu", out=tmp_path / "again.json")
    assert again == {**result, "seconds": again["seconds"]}  # the seed fixes the draws, over both layers too
    with pytest.raises(GenlabError, match="two-layer VAE"):
        export_generator(run, tmp_path / "export")


def test_the_hierarchy_is_validated():
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"model.hierarchy.z_dim: must be .*1.* \(got 0\)"):
        load_config("iwae2-mnist", ["model.hierarchy.z_dim=0"])
    cfg = load_config("iwae2-mnist").model
    assert (cfg.z_dim, cfg.hierarchy.z_dim, cfg.hierarchy.width, cfg.k, cfg.binarize) == (100, 50, 100, 50, "dynamic")
    assert load_config("iwae-mnist").model.hierarchy is None  # the one-layer configs stay one-layer
