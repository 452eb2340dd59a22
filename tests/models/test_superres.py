"""Residual super-resolution starts at the interpolation baseline and training beats it on test images."""

from __future__ import annotations

import pytest
import torch

from genlab.config import load_config
from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.train import RunDir, Trainer

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
    trainer = Trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    trainer.fit()
    scores = trainer.recipe.psnr_against_baseline(load_dataset(DataConfig(name="digits", size=16, split="test")).images)
    assert scores["model_psnr"] > scores["baseline_psnr"] + 1.0  # dB
    assert (trainer.run.samples_dir / "reconstructions-00000400.png").is_file()


def test_the_factor_must_divide_the_image_size():
    with pytest.raises(ConfigError, match="the factor 4 divides"):
        load_config(SR_DIGITS, ["model.factor=4"]).model.build((1, 14, 14), None, torch.device("cpu"))
