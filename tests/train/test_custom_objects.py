"""The trainer takes built objects: a user's own networks and data set train with a genlab objective, through
the Trainer directly and through genlab.fit, and such a run resumes exactly from Python."""

import copy

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

import genlab
from genlab.data import DataConfig, Sampler, load_dataset
from genlab.data.custom import as_image_set
from genlab.errors import ConfigError, DataError, GenlabError
from genlab.metrics import nearest_neighbour_scores
from genlab.models.gan import GANConfig
from genlab.objectives.hinge import Hinge
from genlab.train import Checkpoints, RunDir, Trainer, read_metrics
from tests.train.helpers import assert_same

Z_DIM = 16
STEPS = 400


class DigitPairs(Dataset):
    """A user's data set: (image, label) pairs of 8x8 digits in [-1, 1]."""

    def __init__(self) -> None:
        digits = load_dataset(DataConfig(name="digits", size=8))
        self.images, self.labels = digits.images, digits.labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


def user_networks(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    generator = nn.Sequential(
        nn.Linear(Z_DIM, 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh(), nn.Unflatten(1, (1, 8, 8))
    )
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))
    return generator, discriminator


def test_a_trainer_built_by_hand_trains_a_users_networks_on_a_users_data_set(tmp_path):
    data = as_image_set(DigitPairs())
    assert data.shape == (1, 8, 8) and data.num_classes == 10
    generator, discriminator = user_networks()
    untrained = copy.deepcopy(generator)
    cfg = GANConfig(z_dim=Z_DIM, objective=Hinge())
    recipe = cfg.build(data.shape, None, torch.device("cpu"), networks=(generator, discriminator))
    sampler = Sampler(data, 64, seed=0, device="cpu")
    run = RunDir.create(tmp_path / "run", "mine")
    trainer = Trainer(recipe, sampler, run, [Checkpoints(every=200)], steps=STEPS, progress=False)
    result = trainer.fit()

    assert result.step == STEPS and recipe.generator is generator
    assert [p.name for p in run.checkpoints()] == ["ckpt-00000200.pt", "ckpt-00000400.pt"]
    assert {"loss/d", "loss/g", "D(x)", "D(G(z))"} <= set(read_metrics(run.metrics_path)[-1])
    z = torch.randn(500, Z_DIM, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = nearest_neighbour_scores(untrained(z), data.images)
        after = nearest_neighbour_scores(generator(z), data.images)
    assert after["nn_fake_to_real"] < 0.6 * before["nn_fake_to_real"], (before, after)
    assert after["nn_real_to_fake"] < 0.8 * before["nn_real_to_fake"], (before, after)


QUIET = {
    "device": "cpu",
    "model": {"z_dim": Z_DIM, "objective": {"name": "hinge"}},
    "train": {"steps": 40, "batch_size": 32, "log_every": 10, "checkpoint_every": 20, "sample_every": 20},
    "doctor": {"enabled": False},
}


def fit_own(folder, steps: int):
    generator, discriminator = user_networks()
    config = copy.deepcopy(QUIET)
    config["train"]["steps"] = steps
    config["train"] |= {"progress": False, "loggers": ["jsonl"]}
    return genlab.fit(config, data=DigitPairs(), generator=generator, discriminator=discriminator, out=folder)


def test_fit_records_objects_from_python_and_resumes_them_exactly(tmp_path):
    straight = fit_own(tmp_path / "straight", 40)
    fit_own(tmp_path / "half", 20)
    cfg = genlab.load_config(tmp_path / "half" / "config.yaml")
    assert cfg.data.name == "custom" and cfg.model.generator.arch == "custom"
    assert (tmp_path / "half" / "samples" / "step-00000020.png").is_file()

    with pytest.raises(DataError, match=r"handed to genlab\.fit from Python"):
        genlab.resume(tmp_path / "half", ["train.steps=40"])
    with pytest.raises(ConfigError, match="arch 'custom'"):
        genlab.sample(tmp_path / "half", n=4)
    generator, discriminator = user_networks(seed=5)  # other initial weights: the checkpoint replaces them
    genlab.resume(
        tmp_path / "half", ["train.steps=40"], data=DigitPairs(), generator=generator, discriminator=discriminator
    )
    resumed = torch.load(RunDir(tmp_path / "half").latest_checkpoint(), weights_only=True)
    reference = torch.load(RunDir(straight.run_dir).latest_checkpoint(), weights_only=True)
    assert_same(reference["recipe"], resumed["recipe"], "recipe")
    assert_same(reference["sampler"], resumed["sampler"], "sampler")


def test_bad_objects_are_refused_with_what_to_do(tmp_path):
    generator, discriminator = user_networks()
    with pytest.raises(GenlabError, match="both a generator and a discriminator"):
        genlab.fit(QUIET, generator=generator, out=tmp_path / "a")
    with pytest.raises(ConfigError, match="GAN recipe"):
        genlab.fit("vae-mnist", generator=generator, discriminator=discriminator, data=DigitPairs(), out=tmp_path / "c")
    with pytest.raises(ConfigError, match=r"eval\.every"):
        genlab.fit({**QUIET, "eval": {"every": 10}}, data=DigitPairs(), out=tmp_path / "b")
    with pytest.raises(DataError, match="value_range"):
        as_image_set(torch.rand(10, 1, 8, 8) * 255)
