"""The VAE recipe: closed-form KL, the ELBO on a hand-computed case, the IWAE bound, training and resume."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

import genlab
from genlab.build import build_trainer
from genlab.config import load_config
from genlab.data import Batch, DataConfig, load_dataset
from genlab.errors import ConfigError, GenlabError
from genlab.models.vae import VAE, binarize, gaussian_kl, importance_bound, latent_usage
from genlab.train import RunDir, load_checkpoint

from ..train.helpers import assert_same, straight_and_resumed, train

VAE_DIGITS = {
    "name": "vae-digits",
    "device": "cpu",
    "data": {"name": "digits", "size": 8},
    "model": {
        "recipe": "vae",
        "z_dim": 8,
        "coder": {"arch": "mlp", "width": 64, "depth": 2, "activation": "tanh"},
        "binarize": "dynamic",
    },
    "train": {"steps": 600, "batch_size": 64, "log_every": 50, "sample_every": 0, "progress": False},
    "doctor": {"enabled": False},
}


def vae_config(*overrides: str):
    return load_config(VAE_DIGITS, list(overrides))


def test_kl_matches_the_closed_form_of_torch_distributions():
    mu, logvar = torch.tensor([0.0, 1.5, -0.7]), torch.tensor([0.0, -1.0, 0.8])
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, torch.exp(0.5 * logvar)), torch.distributions.Normal(0.0, 1.0)
    )
    assert torch.allclose(gaussian_kl(mu, logvar), expected, atol=1e-6)
    assert gaussian_kl(torch.zeros(1), torch.zeros(1)).item() == 0.0


def test_the_elbo_equals_a_hand_computed_value():
    """Two pixels x = (1, 0); q(z|x) = N(0.5, 1); the decoder says p = 1/2 for both pixels whatever z is.
    ELBO = 2 log(1/2) - KL(N(0.5, 1) || N(0, 1)) = -1.386294 - 0.125."""
    cfg = load_config({"model": {"recipe": "vae", "z_dim": 1, "coder": {"arch": "mlp"}}}).model
    vae = VAE(cfg, (2,), torch.device("cpu"))
    encoder, decoder = nn.Linear(2, 2), nn.Linear(1, 2)
    with torch.no_grad():
        encoder.weight.zero_(), encoder.bias.copy_(torch.tensor([0.5, 0.0]))
        decoder.weight.zero_(), decoder.bias.zero_()
    vae.encoder, vae.decoder = encoder, decoder
    metrics = vae.train_step(lambda: Batch(torch.tensor([[1.0, -1.0]]), None), step=0)
    expected = 2 * math.log(0.5) - 0.125
    assert metrics["elbo"].item() == pytest.approx(expected, abs=1e-6)
    assert metrics["loss/vae"].item() == pytest.approx(-expected, abs=1e-6)
    assert metrics["kl"].item() == pytest.approx(0.125, abs=1e-7)


def test_the_kl_weight_warms_up_linearly_to_beta():
    vae = vae_config("model.beta=2", "model.kl_warmup=10").model.build((1, 8, 8), None, torch.device("cpu"))
    assert [vae.kl_weight(s) for s in (0, 5, 10, 50)] == [0.0, 1.0, 2.0, 2.0]


def test_dynamic_binarisation_draws_pixels_with_their_intensity():
    grey = torch.full((20000,), 0.5)  # intensity (0.5 + 1) / 2 = 0.75
    drawn = binarize(grey, torch.Generator().manual_seed(0))
    assert set(drawn.unique().tolist()) == {0.0, 1.0}
    assert drawn.mean().item() == pytest.approx(0.75, abs=0.01)


def test_dynamic_binarisation_needs_a_bernoulli_decoder():
    with pytest.raises(ConfigError, match="binarize 'dynamic' needs likelihood 'bernoulli'"):
        vae_config("model.likelihood=gaussian")


MNIST_VAE = ("train.steps=1500", "model.z_dim=20", "train.progress=false", "train.sample_every=0", "device=cpu")


@pytest.fixture(scope="module")
def trained_vae(mnist_dir, tmp_path_factory):
    """vae-mnist (dynamic binarisation, MLP 200-200, Bernoulli decoder) for 1,500 steps: about 10 s."""
    cfg = load_config("vae-mnist", [*MNIST_VAE, "doctor.enabled=false"])
    trainer = train(cfg, tmp_path_factory.mktemp("vae") / "run")
    return trainer


def mnist_test_target(n: int = 200) -> torch.Tensor:
    """MNIST test images binarised once with a fixed seed, as likelihoods are evaluated."""
    test = load_dataset(DataConfig(name="mnist", size=28, split="test")).images[:n]
    return binarize(test, torch.Generator().manual_seed(1))


def test_the_iwae_bound_is_above_the_elbo_and_rises_with_k(trained_vae):
    target = mnist_test_target()
    torch.manual_seed(0)
    bounds = {k: importance_bound(trained_vae.recipe, target, k, chunk=50).mean().item() for k in (1, 5, 50, 200)}
    assert bounds[1] < bounds[5] < bounds[50] < bounds[200]
    assert bounds[50] - bounds[1] > 1.0  # nats: a real gap (about 2.6 measured), far beyond sampling noise
    # The trained model is far more likely than an untrained one.
    untrained = load_config("vae-mnist").model.build((1, 28, 28), None, torch.device("cpu"))
    assert importance_bound(untrained, target, 50).mean().item() < bounds[50] - 100


def test_training_keeps_latent_units_active_and_logs_them(trained_vae):
    usage = latent_usage(trained_vae.recipe, mnist_test_target(1000) * 2 - 1)
    assert len(usage["kl_per_dim"]) == 20 and usage["active_units"] >= 8
    assert sum(usage["kl_per_dim"]) > 5  # nats: the code carries information about x
    assert trained_vae.last_record["active_units"] >= 8 and -160 < trained_vae.last_record["elbo"] < -100


def test_a_vae_run_writes_samples_and_reconstructions(trained_vae):
    samples = trained_vae.run.samples_dir
    assert (samples / "step-00001500.png").is_file() and (samples / "reconstructions-00001500.png").is_file()
    drawn = trained_vae.recipe.sample(16, generator=torch.Generator().manual_seed(0))
    assert drawn.shape == (16, 1, 28, 28) and drawn.min() >= -1 and drawn.max() <= 1


def test_iwae_training_resumes_bit_for_bit(tmp_path):
    settings = ("model.k=4", "model.kl_warmup=20", "train.log_every=5", "data.limit=200")
    full, resumed = straight_and_resumed(vae_config, 24, 12, tmp_path, *settings)
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")
    a, b = (load_checkpoint(tmp_path / run / "checkpoints" / "ckpt-00000024.pt") for run in ("full", "half"))
    assert_same(a["rng"], b["rng"], "rng")


def test_the_likelihood_command_reports_nats_and_writes_them(trained_vae, capsys):
    from genlab.cli import main

    main(["likelihood", str(trained_vae.run.path), "--k", "20", "--n", "100", "--device", "cpu"])
    printed = capsys.readouterr().out
    saved = json.loads((trained_vae.run.path / "likelihood.json").read_text())
    assert f"{saved['nll']:.2f} +- " in printed and saved["k"] == 20 and saved["n"] == 100
    assert saved["binarised_test_set"] and 100 < saved["nll"] < 160 and saved["elbo"] < -saved["nll"]
    assert len(saved["kl_per_dim"]) == 20 and saved["step"] == 1500
    again = genlab.likelihood(trained_vae.run.path, k=20, n=100, device="cpu", out=trained_vae.run.path / "b.json")
    assert again["nll"] == saved["nll"]  # the seed fixes the binarisation and the draws of z


def test_the_likelihood_of_a_gan_run_is_refused(tiny_config, tmp_path):
    cfg = tiny_config("train.steps=2")
    train(cfg, tmp_path / "gan")
    with pytest.raises(GenlabError, match="the likelihood needs a VAE run"):
        genlab.likelihood(tmp_path / "gan", k=2)


def test_a_vae_walks_between_two_real_images(trained_vae, tmp_path):
    from genlab.images import save_png
    from genlab.latent.explore import interpolate_images

    first, second = load_dataset(DataConfig(name="mnist", size=28, split="test")).images[:2]
    walk = interpolate_images(trained_vae.recipe, first, second, steps=6, mode="lerp")
    assert walk.shape == (6, 1, 28, 28)
    ends = trained_vae.recipe.reconstruct(torch.stack([first, second]))
    assert torch.allclose(walk[[0, -1]], ends, atol=1e-5)  # the walk starts and ends at the two reconstructions
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for image, path in zip((first, second), paths, strict=True):
        save_png(((image.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy(), path)
    result = genlab.interpolate(trained_vae.run.path, steps=6, images=paths, device="cpu")
    assert result.path.is_file()


def test_embedding_and_traversal_of_a_vae_run(trained_vae):
    run = trained_vae.run.path
    embedding = genlab.embed(run, n=600, method="pca", device="cpu")
    assert embedding.path.is_file() and embedding.numbers["code_dim"] == 20
    assert (
        embedding.numbers["knn_accuracy"] > 0.7
    )  # digits separate in the 20-d codes (chance: 0.1; 0.79-0.81 measured)
    usage = latent_usage(trained_vae.recipe, mnist_test_target(1000) * 2 - 1)
    activity = torch.tensor(usage["activity"])
    busy, idle = int(activity.argmax()), int(activity.argmin())
    walk = genlab.traverse(run, dims=[busy, idle], steps=5, device="cpu")
    change = walk.numbers["pixel_change"]
    assert walk.path.is_file() and change[0] > 5 * change[1]  # a collapsed unit moves (and changes) nothing


def test_ae_vs_vae_figure(trained_vae, tmp_path):
    settings = ["model.coder={arch: mlp, width: 128}", "train.steps=300", "train.sample_every=0"]
    base = {"device": "cpu", "data": {"name": "mnist", "size": 28}, "model": {"recipe": "autoencoder"}}
    ae_cfg = load_config(base, settings)
    build_trainer(ae_cfg, RunDir.create(tmp_path / "ae", "ae")).fit()
    with pytest.raises(GenlabError, match="compares an autoencoder run with a VAE run, in that order"):
        genlab.ae_vs_vae(trained_vae.run.path, tmp_path / "ae", device="cpu", out=tmp_path / "f.png")
    figure = genlab.ae_vs_vae(tmp_path / "ae", trained_vae.run.path, n=6, device="cpu", out=tmp_path / "f.png")
    assert figure.path.is_file() and len(figure.numbers["rows"]) == 5
    for name in ("ae", "vae"):
        assert 0 <= figure.numbers[f"{name}_confident_decodes"] <= 1
        assert figure.numbers[f"{name}_reconstruction_mse"] < 0.5
