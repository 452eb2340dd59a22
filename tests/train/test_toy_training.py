"""2-D points through the shared trainer: scatter pictures and mode statistics at the sampling steps."""

import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from genlab import api
from genlab.build import build_trainer
from genlab.data.toy import MIXTURES
from genlab.models import Recipe
from genlab.train import RunDir, read_metrics

FIVE_MEANS = torch.tensor(MIXTURES["grid25"].means[:5], dtype=torch.float32)


class OnFiveMeans(Recipe):
    """Stand-in for a generator: its samples sit exactly on five grid25 means, in turn."""

    def __init__(self) -> None:
        self.net = nn.Linear(2, 2)
        self.networks = {"net": self.net}
        self.optimizers = {"net": torch.optim.SGD(self.net.parameters(), lr=0.01)}
        self.sample_calls: list[tuple[int, int | None]] = []

    def train_step(self, next_batch, step):
        points = next_batch().images
        loss = (self.net(points) - points).pow(2).mean()
        self.optimizers["net"].zero_grad()
        loss.backward()
        self.optimizers["net"].step()
        return {"loss/fit": loss.detach()}

    def sample(self, n, *, generator=None, labels=None, truncation=None, truncation_mode="resample"):
        self.sample_calls.append((n, None if generator is None else generator.initial_seed()))
        return FIVE_MEANS[torch.arange(n) % 5]


@pytest.fixture
def built(tiny_config, monkeypatch):
    """(shape, num_classes) of every model built; the tiny config's recipe builds :class:`OnFiveMeans`."""
    calls = []

    def build(model_cfg, shape, num_classes, device):
        calls.append((shape, num_classes))
        return OnFiveMeans()

    monkeypatch.setattr(type(tiny_config().model), "build", build)
    return calls


@pytest.fixture
def toy_config(tiny_config, built):
    # The doctor samples too; these tests count the trainer's own sampling, so it is off here.
    return lambda *overrides: tiny_config(
        "data.name=grid25", "data.limit=400", "seed=7", "doctor.enabled=false", *overrides
    )


def test_mode_statistics_are_logged_at_each_sampling_step_only(toy_config, built, tmp_path):
    cfg = toy_config()
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    trainer.fit()
    assert built == [((2,), 25)]
    # At steps 10 and 20 the mode statistics and the scatter picture each draw the same 2,500 points (run's seed).
    assert trainer.recipe.sample_calls == [(2500, 7)] * 4
    records = read_metrics(trainer.run.metrics_path)
    assert [r["step"] for r in records] == [5, 10, 10, 15, 20, 20]
    modes = [r for r in records if "modes/covered" in r]
    assert [r["step"] for r in modes] == [10, 20]
    for record in modes:
        assert record == {
            "step": record["step"],
            "modes/covered": 5,
            "modes/high_quality": 1.0,
            "modes/reverse_kl": pytest.approx(math.log(5)),
        }
    assert all("loss/fit" in r for r in records if r not in modes)


def test_vector_runs_write_scatter_plots_and_sample_as_scatter_too(toy_config, tmp_path):
    cfg = toy_config()
    result = api.fit(cfg, out=tmp_path / "run")
    run = RunDir(result.run_dir)
    pictures = sorted(run.samples_dir.iterdir())
    assert [p.name for p in pictures] == ["step-00000010.png", "step-00000020.png"]
    picture = np.asarray(Image.open(pictures[-1]))
    assert picture.shape == (400, 400, 3)
    assert ((picture == [200, 200, 200]).all(axis=2)).any()  # the real points, light grey
    assert (picture.min(axis=2) < 200).any()  # the generated points
    assert (run.path / "curves.png").is_file()
    out = tmp_path / "drawn.png"
    points = api.sample(run.path, n=10, out=out, device="cpu")
    assert torch.equal(points, FIVE_MEANS.repeat(2, 1))
    assert Image.open(out).size == (400, 400)


def test_tensorboard_gets_the_scatter_and_the_integer_mode_count(toy_config, tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    cfg = toy_config("train.loggers=[jsonl,tensorboard]")
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    trainer.fit()
    events = accumulator.EventAccumulator(str(trainer.run.tensorboard_dir))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("modes/covered")] == [(10, 5.0), (20, 5.0)]
    assert [(e.step, e.width, e.height) for e in events.Images("samples")] == [(10, 400, 400), (20, 400, 400)]
