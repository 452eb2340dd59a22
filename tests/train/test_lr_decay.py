import math

import pytest

from genlab.build import build_trainer, resume_trainer
from genlab.train import RunDir
from genlab.train.lr_decay import lr_factor


def test_decay_factors_by_hand():
    assert [lr_factor(s, 100, "none", 0.0) for s in (0, 50, 100)] == [1.0, 1.0, 1.0]
    assert [lr_factor(s, 100, "linear", 0.0) for s in (0, 25, 50, 100)] == pytest.approx([1.0, 0.75, 0.5, 0.0])
    # Starting at 40%: flat until step 40, then linear over the remaining 60 steps.
    assert [lr_factor(s, 100, "linear", 0.4) for s in (10, 40, 70, 100)] == pytest.approx([1.0, 1.0, 0.5, 0.0])
    assert lr_factor(50, 100, "cosine", 0.0) == pytest.approx(0.5)
    assert lr_factor(25, 100, "cosine", 0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_trainer_decays_every_optimiser_and_resume_continues_the_curve(tiny_config, tmp_path):
    cfg = tiny_config("train.lr_decay=linear", "train.steps=20", "model.d_optim.lr=4e-4")
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    trainer.fit()
    # The last step (index 19 of 20) ran with factor 1 - 19/20.
    lrs = {name: opt.param_groups[0]["lr"] for name, opt in trainer.recipe.optimizers.items()}
    assert lrs == pytest.approx({"generator": 2e-4 * 0.05, "discriminator": 4e-4 * 0.05})
    resumed = resume_trainer(tmp_path / "run", ["train.steps=40"])
    assert resumed.lr_decay.base["discriminator"] == [4e-4]  # the configured rate, not the decayed one saved
