"""The perceptual loss: zero for identical images, growing with distortion, and usable to train an autoencoder."""

from __future__ import annotations

import pytest
import torch

from genlab.config import load_config
from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.models.autoencoder import corrupt
from genlab.models.perceptual import PerceptualConfig

from ..train.helpers import train

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits", size=8, split="test")).images[:200]


def test_zero_for_identical_images_and_growing_with_distortion(digits):
    loss = PerceptualConfig(network="digits").build(CPU)
    assert loss(digits, digits).item() == 0.0
    noisy = [corrupt(digits, "gaussian", s, torch.Generator().manual_seed(0)) for s in (0.05, 0.1, 0.2, 0.4)]
    values = [loss(images, digits).item() for images in noisy]
    assert values == sorted(values) and values[0] > 0 and values[-1] > 5 * values[0]


def test_is_the_mean_squared_difference_of_the_chosen_layer(digits):
    cfg = PerceptualConfig(network="digits", layer=5)
    loss = cfg.build(CPU)
    noisy = corrupt(digits, "mask", 0.3, torch.Generator().manual_seed(0))
    a, b = loss.features(noisy), loss.features(digits)
    c, h, w = a.shape[1:]
    by_hand = ((a - b) ** 2).sum(dim=(1, 2, 3)) / (c * h * w)
    assert loss(noisy, digits).item() == pytest.approx(by_hand.mean().item(), rel=1e-5)


def test_gradients_reach_the_images_not_the_network(digits):
    loss = PerceptualConfig(network="digits").build(CPU)
    images = corrupt(digits[:8], "gaussian", 0.2, torch.Generator().manual_seed(0)).clamp(-0.99, 0.99)
    images.requires_grad_(True)
    loss(images, digits[:8]).backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss.trunk.parameters())


def test_settings_are_checked():
    with pytest.raises(ConfigError, match=r"perceptual\.network is not set"):
        PerceptualConfig().build(CPU)
    with pytest.raises(ConfigError, match=r"perceptual\.layer must be in 0\.\.19"):
        PerceptualConfig(network="digits", layer=20).build(CPU)


def test_an_autoencoder_trained_on_the_perceptual_loss_lowers_it(tmp_path, digits):
    overrides = {
        "name": "ae-perceptual",
        "device": "cpu",
        "data": {"name": "digits", "size": 8},
        "model": {
            "recipe": "autoencoder",
            "code_dim": 16,
            "coder": {"arch": "mlp", "width": 128},
            "loss": "perceptual",
            "perceptual": {"network": "digits"},
        },
        "train": {"steps": 300, "batch_size": 64, "log_every": 100, "sample_every": 0, "progress": False},
    }
    cfg = load_config(overrides)
    untrained = cfg.model.build((1, 8, 8), None, CPU)
    trainer = train(cfg, tmp_path / "run")
    loss = PerceptualConfig(network="digits").build(CPU)
    before = loss(untrained.reconstruct(digits), digits).item()
    after = loss(trainer.recipe.reconstruct(digits), digits).item()
    assert after < 0.5 * before


def test_the_network_defaults_to_the_evaluation_suites_classifier():
    ae = {"name": "ae", "data": {"name": "digits", "size": 8}, "model": {"recipe": "autoencoder", "loss": "perceptual"}}
    assert load_config(ae).model.perceptual.network == "digits"
    assert load_config(ae, ["eval.features=mnist"]).model.perceptual.network == "mnist"
    assert load_config(ae, ["model.perceptual.network=mnist"]).model.perceptual.network == "mnist"
    assert load_config(ae, ["model.loss=mse"]).model.perceptual.network is None  # unused: not filled in
    raw = load_config(ae, ["eval.features=raw"])
    with pytest.raises(ConfigError, match="evaluation suite uses no classifier"):
        raw.model.build((1, 8, 8), None, CPU)
