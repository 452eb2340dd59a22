"""Every ready image config trains a few steps (on the bundled digits, so no MNIST files are needed)."""

import math

import pytest

from genlab.build import build_trainer
from genlab.config import load_config, presets
from genlab.train import RunDir

IMAGE_PRESETS = [name for name in presets() if name.endswith("-mnist")]


@pytest.mark.parametrize("name", IMAGE_PRESETS)
def test_ready_mnist_configs_train_on_digits(tmp_path, name):
    cfg = load_config(
        name,
        [
            "device=cpu",
            "data.name=digits",
            "train.steps=2",
            "train.batch_size=16",
            "train.log_every=1",
            "train.sample_every=0",
            "train.checkpoint_every=0",
            "train.n_samples=4",
            "train.progress=false",
            "train.tensorboard=false",
        ],
    )
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    trainer.fit()
    assert trainer.step == 2 and all(math.isfinite(v) for v in trainer.last_record.values())
