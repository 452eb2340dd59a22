"""Every ready image config trains a few steps (MNIST ones on the bundled digits, so no MNIST files are needed;
CIFAR-10 ones on tiny files in the official format)."""

import math

import numpy as np
import pytest
from PIL import Image

from genlab.build import build_trainer
from genlab.config import load_config, presets
from genlab.train import RunDir
from tests.data.test_cifar10 import write_cifar10

IMAGE_PRESETS = [name for name in presets() if name.endswith("-mnist")]
CIFAR10_PRESETS = [name for name in presets() if name.endswith("-cifar10")]
QUICK = [
    "device=cpu",
    "train.steps=2",
    "train.log_every=1",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.n_samples=4",
    "train.progress=false",
    "train.loggers=[jsonl]",
]


def train_two_steps(tmp_path, name: str, overrides: list[str]) -> None:
    cfg = load_config(name, [*QUICK, *overrides])
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    trainer.fit()
    assert trainer.step == 2 and all(math.isfinite(v) for v in trainer.last_record.values())


@pytest.mark.parametrize("name", IMAGE_PRESETS)
def test_ready_mnist_configs_train_on_digits(tmp_path, name):
    train_two_steps(tmp_path, name, ["data.name=digits", "train.batch_size=16"])


def test_cifar10_has_a_dcgan_an_sngan_and_a_classifier_config():
    assert CIFAR10_PRESETS == ["classifier-cifar10", "dcgan-cifar10", "sngan-cifar10"]
    sngan = load_config("sngan-cifar10").model
    assert (sngan.objective.name, sngan.generator.arch, sngan.discriminator.arch) == ("hinge", "resnet", "resnet")
    assert sngan.discriminator.spectral_norm and not sngan.generator.spectral_norm


@pytest.mark.parametrize("name", CIFAR10_PRESETS)
def test_ready_cifar10_configs_train_on_files_in_the_official_format(tmp_path, name):
    write_cifar10(tmp_path / "data")
    train_two_steps(tmp_path, name, [f"data.path={tmp_path / 'data'}", "train.batch_size=4"])


def test_ready_folder_config_trains_on_a_folder_of_photographs(tmp_path):
    """dcgan-folder64 needs data.path; here a folder of odd-sized RGB and grey pictures the test writes."""
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        shape = (70 + 5 * i, 90) if i % 2 else (80, 66, 3)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / f"{i}.{'png' if i % 2 else 'jpg'}")
    cfg = load_config("dcgan-folder64")
    assert (cfg.data.name, cfg.data.size, cfg.data.fit, cfg.data.flip, cfg.data.path) == (
        "folder",
        64,
        "crop",
        True,
        None,
    )
    train_two_steps(tmp_path, "dcgan-folder64", [f"data.path={folder}", "train.batch_size=4"])
