"""Unrolled GAN: k = 0 is the plain objective, k = 1 matches a hand-built unrolled step, D trains as usual."""

import pytest
import torch
import torch.nn.functional as F

from genlab.config import load_config
from genlab.data import DataConfig, Sampler, load_dataset
from genlab.errors import ConfigError
from genlab.models.gan import GANConfig

from ..train.helpers import assert_same, straight_and_resumed

MLP = {"arch": "mlp", "width": 8, "depth": 2}
DCGAN = {"data": "digits", "size": 16, "generator": {"arch": "dcgan", "width": 8}, "discriminator": {"arch": "dcgan"}}
"""At 16 px the DCGAN discriminator has a BatchNorm layer."""


def build(data: str = "ring8", size: int = 8, unroll: dict | None = None, **model):
    """A GAN recipe (seeded) and a sampler over 64 samples of ``data``."""
    dataset = load_dataset(DataConfig(name=data, size=size, limit=64))
    fields = {"z_dim": 2, "generator": MLP, "discriminator": MLP, "tricks": {"unroll": unroll}} | model
    cfg = GANConfig.model_validate(fields)
    torch.manual_seed(0)
    num_classes = 10 if data == "digits" else None
    return cfg.build(dataset.shape, num_classes, torch.device("cpu")), Sampler(dataset, 16, 0, "cpu")


def trained_state(steps: int, **kwargs) -> dict:
    recipe, sampler = build(**kwargs)
    for step in range(steps):
        recipe.train_step(sampler, step)
    return recipe.state_dict()


@pytest.mark.parametrize(
    "setup",
    [
        {},
        DCGAN,
        {"data": "digits", "condition": "projection", "z_dim": 4},
    ],
    ids=["mlp-2d", "dcgan-batchnorm", "conditional"],
)
def test_zero_unrolled_steps_train_exactly_like_the_plain_objective(setup):
    plain = trained_state(2, **setup)
    unrolled = trained_state(2, unroll={"steps": 0}, **setup)
    assert_same(plain["networks"], unrolled["networks"], "networks")  # parameters and BatchNorm statistics
    one_step = trained_state(2, unroll={"steps": 1, "lr": 0.5}, **setup)["networks"]["generator"]
    assert any(not torch.equal(one_step[k], v) for k, v in plain["networks"]["generator"].items())


def hand_unrolled_g_grads(recipe, real: torch.Tensor, z: torch.Tensor, lr: float, k: int = 1) -> list[torch.Tensor]:
    """G's gradient of the non-saturating loss against D after k steps θ ← θ − η∇θ L_D, with D
    (Linear-ReLU-Linear-ReLU-Linear) written out by hand, so the reference shares nothing with functional_call."""
    theta = [p.detach().requires_grad_() for p in recipe.discriminator.parameters()]

    def D(params, x):
        w1, b1, w2, b2, w3, b3 = params
        return F.linear(F.relu(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)), w3, b3).squeeze(1)

    fake = recipe.generator(z)
    for _ in range(k):
        d_loss = 0.5 * (F.softplus(-D(theta, real)).mean() + F.softplus(D(theta, fake)).mean())  # J(D) halves it
        grads = torch.autograd.grad(d_loss, theta, create_graph=True)
        theta = [p - lr * g for p, g in zip(theta, grads, strict=True)]
    g_loss = F.softplus(-D(theta, fake)).mean()
    return list(torch.autograd.grad(g_loss, list(recipe.generator.parameters())))


@pytest.mark.parametrize("k", [1, 3])
def test_unrolled_steps_give_the_hand_built_generator_gradient(k):
    lr = 0.5
    recipe, sampler = build(unroll={"steps": k, "lr": lr})
    recipe._next_batch = sampler  # what train_step sets before the schedule runs the two moves
    last = recipe.d_step(keep_graph=False)
    rng = torch.get_rng_state()
    z = recipe.latents(len(last.real))
    expected = hand_unrolled_g_grads(recipe, last.real, z, lr, k)
    torch.set_rng_state(rng)  # g_step draws the same latents
    recipe.g_step(last, reuse_fake=False)
    got = [p.grad for p in recipe.generator.parameters()]
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-7)
    # Unrolling matters here: η = 0 (the plain G loss) gives another gradient.
    plain = hand_unrolled_g_grads(recipe, last.real, z, 0.0)
    assert not all(torch.allclose(g, p) for g, p in zip(got, plain, strict=True))


def test_d_takes_its_usual_step_and_the_unrolled_steps_leave_it_alone():
    states = {}
    for name, unroll in (("plain", None), ("unrolled", {"steps": 3, "lr": 0.1})):
        recipe, sampler = build(unroll=unroll, **DCGAN)
        recipe._next_batch = sampler
        last = recipe.d_step(keep_graph=False)
        after_d = {k: v.clone() for k, v in recipe.discriminator.state_dict().items()}
        recipe.g_step(last, reuse_fake=False)
        states[name] = after_d, recipe.discriminator.state_dict(), recipe.generator.state_dict()
    (plain_d, _, plain_g), (unrolled_d, unrolled_after_g, unrolled_g) = states["plain"], states["unrolled"]
    assert_same(plain_d, unrolled_d, "D after its step")  # the usual optimiser step, BatchNorm statistics included
    # G's step through the unrolled copy changes neither D's weights nor its BatchNorm statistics.
    assert_same(unrolled_d, dict(unrolled_after_g), "D after G's step")
    assert any(not torch.equal(plain_g[k], unrolled_g[k]) for k in plain_g)


def test_resume_with_unrolling_continues_exactly(tiny_config, tmp_path):
    mlp = ("model.generator.arch=mlp", "model.discriminator.arch=mlp")  # double backward through convs is slow
    quiet = ("train.report=false", "train.sample_every=0", "train.log_every=5")
    overrides = (*mlp, *quiet, "model.tricks.unroll.steps=2", "model.tricks.unroll.lr=0.1")
    full, resumed = straight_and_resumed(tiny_config, 8, 4, tmp_path, *overrides)
    assert full.recipe.cfg.tricks.unroll.steps == 2
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"discriminator": {"arch": "mlp", "spectral_norm": True}}, r"spectral_norm: false or model\.tricks\.unroll"),
        ({"objective": "ebgan", "discriminator": {"arch": "autoencoder"}}, "supports classifier discriminators only"),
    ],
)
def test_unsupported_discriminators_are_refused(model, message):
    with pytest.raises(ConfigError, match=message):
        build(unroll={"steps": 2}, **model)


def test_unroll_settings_are_validated():
    with pytest.raises(ConfigError, match="steps"):
        load_config({}, ["model.tricks.unroll.steps=-1"])
