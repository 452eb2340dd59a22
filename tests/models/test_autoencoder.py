"""Autoencoder and denoising autoencoder: corruption, PSNR, and training that measurably helps."""

from __future__ import annotations

import pytest
import torch

from genlab.config import load_config
from genlab.data import DataConfig, load_dataset
from genlab.models.autoencoder import corrupt, psnr
from genlab.train import Trainer

from ..train.helpers import train

AE_DIGITS = {
    "name": "ae-digits",
    "device": "cpu",
    "data": {"name": "digits", "size": 16},
    "model": {"recipe": "autoencoder", "code_dim": 16, "coder": {"arch": "conv", "width": 16}},
    "train": {"steps": 400, "batch_size": 64, "log_every": 100, "sample_every": 0, "progress": False},
}


def images(n: int = 4000) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8


def test_gaussian_noise_has_the_requested_spread():
    x = images()
    noisy = corrupt(x, "gaussian", 0.05, torch.Generator().manual_seed(1))
    assert (noisy - x).std().item() == pytest.approx(0.1, rel=0.03)  # 0.05 of the [0, 1] range = 0.1 here
    assert corrupt(x, "none", 0.5) is x


@pytest.mark.parametrize("kind", ["salt-pepper", "mask"])
def test_impulse_noise_hits_the_requested_share_of_pixels(kind):
    x = images()
    noisy = corrupt(x, kind, 0.2, torch.Generator().manual_seed(2))
    changed = noisy != x
    assert changed.float().mean().item() == pytest.approx(0.2, abs=0.01)
    values = set(noisy[changed].unique().tolist())
    assert values == ({-1.0, 1.0} if kind == "salt-pepper" else {-1.0})


def test_psnr_on_a_hand_computed_case():
    clean = torch.zeros(2, 1, 4, 4)
    assert psnr(clean + 0.2, clean).tolist() == pytest.approx([20.0, 20.0])  # 10 log10(4 / 0.04)


def train_ae(tmp_path, *overrides: str) -> Trainer:
    return train(load_config(AE_DIGITS, list(overrides)), tmp_path / "run")


def test_training_lowers_the_test_reconstruction_error(tmp_path):
    test = load_dataset(DataConfig(name="digits", size=16, split="test")).images
    untrained = load_config(AE_DIGITS).model.build((1, 16, 16), None, torch.device("cpu"))
    trainer = train_ae(tmp_path)
    before = (untrained.reconstruct(test) - test).square().mean().item()
    after = (trainer.recipe.reconstruct(test) - test).square().mean().item()
    assert after < 0.3 * before
    assert (trainer.run.samples_dir / "reconstructions-00000400.png").is_file()
    assert not list(trainer.run.samples_dir.glob("step-*.png"))  # an autoencoder has no samples to draw


def test_a_denoising_autoencoder_output_beats_its_noisy_input(tmp_path):
    trainer = train_ae(tmp_path, "model.noise=gaussian", "model.noise_level=0.3")
    clean = load_dataset(DataConfig(name="digits", size=16, split="test")).images
    noisy = corrupt(clean, "gaussian", 0.3, torch.Generator().manual_seed(0))
    gain = psnr(trainer.recipe.reconstruct(noisy), clean).mean() - psnr(noisy, clean).mean()
    assert gain.item() > 3.0  # dB
