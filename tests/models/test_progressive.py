"""The progressive recipe: its growth plan, real images at the current resolution, exact resume in the middle of
a fade, sample grids at every resolution, and training that beats the untrained generator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.config import load_config
from genlab.data import Batch, DataConfig
from genlab.errors import ConfigError
from genlab.metrics import EvalConfig, Evaluator
from genlab.models.progressive import Phase, real_at

from ..train.helpers import assert_same, straight_and_resumed, train

PROGRESSIVE_DIGITS = {
    "name": "progan-digits",
    "device": "cpu",
    "seed": 0,
    "data": {"name": "digits", "size": 16},
    "model": {
        "recipe": "progressive",
        "z_dim": 32,
        "generator": {"arch": "progressive", "width": 32},
        "discriminator": {"arch": "progressive", "width": 32},
        "growth": {"fade_images": 2560, "stable_images": 2560, "batch_sizes": {16: 32}},
    },
    "train": {"steps": 300, "batch_size": 64, "log_every": 20, "sample_every": 0, "progress": False},
}


def config(*overrides: str):
    return load_config(PROGRESSIVE_DIGITS, list(overrides))


def test_the_plan_fades_each_new_resolution_in_linearly():
    recipe = config().model.build((1, 16, 16), None, torch.device("cpu"))
    # 4x4: 40 steps of 64; 8x8: fade 40 + stable 40; 16x16 (batch 32): fade 80, then until the end.
    phases = [recipe.plan.at(step) for step in (0, 39, 40, 60, 79, 80, 119, 120, 160, 200, 299)]
    assert [p.side for p in phases] == [4, 4, 8, 8, 8, 8, 8, 16, 16, 16, 16]
    assert [p.alpha for p in phases] == [1, 1, 0, 0.5, 0.975, 1, 1, 0, 0.5, 1, 1]
    assert [p.batch_size for p in phases] == [64] * 7 + [32] * 4
    assert [recipe.stage_end(n) for n in (40, 120, 121, 300)] == ["resolution-4x4", "resolution-8x8", None, None]
    # The untrained networks start at the first phase.
    assert (recipe.generator.level, recipe.discriminator.level) == (0, 0)


def test_real_images_are_shown_at_the_current_resolution_and_blended_during_a_fade():
    images = torch.rand(3, 1, 16, 16) * 2 - 1
    assert torch.allclose(real_at(images, Phase(0, 1.0, 3)), F.avg_pool2d(images, 4))  # 4x4
    assert torch.allclose(real_at(images, Phase(1, 1.0, 3)), F.avg_pool2d(images, 2))  # 8x8
    assert torch.equal(real_at(images, Phase(2, 1.0, 3)), images)
    coarse = F.interpolate(F.avg_pool2d(images, 2), scale_factor=2, mode="nearest")
    assert torch.allclose(real_at(images, Phase(2, 0.0, 3)), coarse)
    assert torch.allclose(real_at(images, Phase(2, 0.25, 3)), 0.75 * coarse + 0.25 * images)


def test_a_phase_batch_larger_than_the_trainers_gathers_several_of_its_batches():
    recipe = config("model.growth.batch_sizes={4: 96}").model.build((1, 16, 16), None, torch.device("cpu"))
    drawn = []

    def next_batch():
        drawn.append(torch.rand(64, 1, 16, 16) * 2 - 1)
        return Batch(drawn[-1], None)

    recipe.train_step(next_batch, 0)
    assert len(drawn) == 2  # one D step needs 96 images: two draws of 64
    assert recipe.plan.at(0).batch_size == 96


def test_resume_in_the_middle_of_a_fade_continues_exactly(tmp_path):
    short = ("model.growth.fade_images=640", "model.growth.stable_images=640", "train.log_every=5")
    full, resumed = straight_and_resumed(config, 36, 15, tmp_path, *short)
    assert full.recipe.plan.at(14).alpha == 0.4  # the stopped run's last step: 8x8 was fading in
    assert (resumed.recipe.generator.level, resumed.recipe.generator.alpha) == (1, 0.4)
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(config(), tmp_path_factory.mktemp("progan") / "run")


def test_training_writes_a_sample_grid_at_every_resolution_and_ends_at_full_size(trained):
    samples = trained.run.samples_dir
    assert (samples / "resolution-4x4.png").is_file() and (samples / "resolution-8x8.png").is_file()
    assert trained.recipe.sample(4).shape == (4, 1, 16, 16)
    assert trained.last_record["resolution"] == 16 and trained.last_record["alpha"] == 1


def test_training_beats_the_untrained_generator(trained):
    evaluator = Evaluator(EvalConfig(n=1000, metrics=("fid",)), DataConfig(name="digits", size=16))
    untrained = config().model.build((1, 16, 16), None, torch.device("cpu"))
    for net in untrained.networks.values():
        net.set_phase(2, 1.0)  # the full resolution the trained one ends at
    gen = torch.Generator().manual_seed(0)
    fid_trained = evaluator.evaluate(trained.recipe.sample(1000, generator=gen)).values["fid"]
    fid_untrained = evaluator.evaluate(untrained.sample(1000, generator=gen)).values["fid"]
    assert fid_trained < 0.5 * fid_untrained


def test_settings_are_checked():
    with pytest.raises(ConfigError, match=r"generator\.arch must be progressive"):
        config("model.generator.arch=dcgan")
    with pytest.raises(ConfigError, match="power of two"):
        config("model.growth.start_size=12")
    with pytest.raises(ConfigError, match="larger than the images"):
        config("model.growth.start_size=32").model.build((1, 16, 16), None, torch.device("cpu"))
    assert config().model.growth.batch_size == 64  # train.batch_size, recorded in the config
