"""Residual super-resolution starts at the interpolation baseline and training beats it on test images."""

from __future__ import annotations

import pytest
import torch

from genlab.config import load_config
from genlab.data import Batch, DataConfig, load_dataset
from genlab.errors import ConfigError

from ..train.helpers import train

SR_DIGITS = {
    "name": "sr-digits",
    "device": "cpu",
    "data": {"name": "digits", "size": 16},
    "model": {"recipe": "superres", "factor": 2, "depth": 6, "width": 32},
    "train": {"steps": 400, "batch_size": 64, "log_every": 100, "sample_every": 0, "progress": False},
}


def test_the_untrained_network_is_the_interpolation_baseline():
    recipe = load_config(SR_DIGITS).model.build((1, 16, 16), None, torch.device("cpu"))
    images = load_dataset(DataConfig(name="digits", size=16, split="test")).images
    scores = recipe.psnr_against_baseline(images)
    assert scores["model_psnr"] == pytest.approx(scores["baseline_psnr"], abs=1e-4)
    assert torch.equal(recipe.reconstruct(images), recipe.enlarged_low_res(images))


def test_training_beats_bicubic_upsampling_on_test_images(tmp_path):
    cfg = load_config(SR_DIGITS)
    trainer = train(cfg, tmp_path / "run")
    scores = trainer.recipe.psnr_against_baseline(load_dataset(DataConfig(name="digits", size=16, split="test")).images)
    assert scores["model_psnr"] > scores["baseline_psnr"] + 1.0  # dB
    assert (trainer.run.samples_dir / "reconstructions-00000400.png").is_file()


def test_the_factor_must_divide_the_image_size():
    with pytest.raises(ConfigError, match="the factor 4 divides"):
        load_config(SR_DIGITS, ["model.factor=4"]).model.build((1, 14, 14), None, torch.device("cpu"))


SRGAN_DIGITS = {
    **SR_DIGITS,
    "name": "srgan-digits",
    "model": {**SR_DIGITS["model"], "loss": "perceptual", "adversary": {"weight": 0.01}},
}


def test_srgan_loss_is_the_perceptual_loss_plus_the_weighted_generator_loss():
    """One step by hand: D updates first, then the network's loss is content + weight * G loss through that D."""
    cfg = load_config(SRGAN_DIGITS)
    assert cfg.model.perceptual.network == "digits"  # the evaluation suite's classifier, filled in on loading
    recipe = cfg.model.build((1, 16, 16), None, torch.device("cpu"))
    images = load_dataset(DataConfig(name="digits", size=16)).images[:32]
    with torch.no_grad():
        output = recipe.net(recipe.enlarged_low_res(images))
        content = recipe.content_loss(output, images)
        d_before = recipe.objective.d_loss(recipe.discriminator(images), recipe.discriminator(output))
    logs = recipe.train_step(lambda: Batch(images, None), 0)
    with torch.no_grad():  # D does not change in the network's update, so scoring it now gives what the step used
        adversarial = recipe.objective.g_loss(recipe.discriminator(output))
    assert logs["loss/d"].item() == pytest.approx(d_before.item(), rel=1e-5)
    assert logs["loss/perceptual"].item() == pytest.approx(content.item(), rel=1e-5)
    assert logs["loss/adversarial"].item() == pytest.approx(adversarial.item(), rel=1e-5)
    assert adversarial.item() != pytest.approx(recipe.objective.g_loss(torch.zeros(1)).item())


def test_srgan_trains_its_discriminator_and_still_beats_bicubic(tmp_path):
    cfg = load_config(SRGAN_DIGITS)
    trainer = train(cfg, tmp_path / "run")
    recipe = trainer.recipe
    test = load_dataset(DataConfig(name="digits", size=16, split="test")).images
    scores = recipe.psnr_against_baseline(test)
    assert scores["model_psnr"] > scores["baseline_psnr"] + 1.0  # dB
    with torch.no_grad():
        real_right = (recipe.discriminator(test) > 0).float().mean()
        fake_right = (recipe.discriminator(recipe.reconstruct(test)) < 0).float().mean()
    assert (real_right + fake_right) / 2 > 0.55  # an untrained D sits at chance
    assert set(torch.load(trainer.run.latest_checkpoint(), weights_only=True)["recipe"]["networks"]) == {
        "superres",
        "discriminator",
    }


def test_srgan_settings_are_checked():
    with pytest.raises(ConfigError, match="needs an autoencoder discriminator"):
        load_config(SRGAN_DIGITS, ["model.adversary.objective.name=ebgan"])
    with pytest.raises(ConfigError, match="weight"):
        load_config(SRGAN_DIGITS, ["model.adversary.weight=0"])
