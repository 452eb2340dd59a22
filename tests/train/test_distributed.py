"""Data-parallel training: torchrun with 2 gloo processes on the CPU equals one process with twice the batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlab.build import build_trainer
from genlab.config import load_config
from genlab.data.base import ImageSet
from genlab.data.sampler import Sampler
from genlab.errors import ConfigError
from genlab.train import RunDir, read_metrics
from genlab.train.checkpoint import load_checkpoint

QUIET = [
    "train.steps=3",
    "train.log_every=1",
    "train.sample_every=0",
    "train.report=false",
    "train.loggers=[jsonl]",
    "train.progress=false",
    "doctor.enabled=false",
    "device=cpu",
]


def train(
    tmp_path: Path, name: str, batch: int, processes: int, config: str = "nonsaturating-ring8", *extra: str
) -> dict:
    """Train 3 steps (with torchrun when ``processes`` > 1) with ``extra`` settings; the final networks."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    command = [*(launcher if processes > 1 else [sys.executable]), "-m", "genlab", "train", config]
    settings = [*QUIET, f"train.batch_size={batch}", *extra]
    command += ["--out", str(tmp_path / name), *(x for s in settings for x in ("--set", s))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    run = RunDir(tmp_path / name)
    return load_checkpoint(run.latest_checkpoint())["recipe"]["networks"]


def max_difference(a: dict, b: dict) -> float:
    return max(float((a[net][k] - b[net][k]).abs().max()) for net in a for k in a[net] if a[net][k].is_floating_point())


@pytest.mark.parametrize("config", ["nonsaturating-ring8", "wgan-ring8"])  # wgan: 5 D steps, weight clipping
def test_two_processes_with_batch_b_train_like_one_process_with_batch_2b(tmp_path, config):
    two = train(tmp_path, "two", batch=32, processes=2, config=config)
    one = train(tmp_path, "one", batch=64, processes=1, config=config)
    half = train(tmp_path, "half", batch=32, processes=1, config=config)
    assert max_difference(two, one) < 1e-5  # same weights after 3 Adam steps of G and D
    assert max_difference(half, one) > 1e-4  # what a wrong split of the batch would look like
    # Rank 0 alone wrote the run folder: one record per step, throughput counted over both processes.
    records = [r for r in read_metrics(tmp_path / "two" / "metrics.jsonl") if "loss/d" in r]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert len(RunDir(tmp_path / "two").checkpoints()) == 1


def test_compiled_networks_train_data_parallel_like_one_eager_process(tmp_path):
    # torch.compile wraps the DistributedDataParallel wrappers, as PyTorch advises; gradients are still averaged.
    two = train(tmp_path, "two", 32, 2, "nonsaturating-ring8", "accel.compile=true")
    one = train(tmp_path, "one", 64, 1, "nonsaturating-ring8")
    assert max_difference(two, one) < 1e-5


def test_sharded_samplers_draw_the_global_batch_between_them():
    data = ImageSet(torch.arange(50.0).reshape(50, 1), None, "count")
    one = Sampler(data, 8, seed=3, device="cpu")
    ranks = [Sampler(data, 4, seed=3, device="cpu", rank=r, world=2) for r in (0, 1)]
    for _ in range(15):  # several epochs: 6 global batches of 8 fit in 50 points
        assert torch.equal(torch.cat([s().images for s in ranks]), one().images)


def test_a_sharded_sampler_needs_a_global_batch_the_data_can_fill():
    data = ImageSet(torch.zeros(10, 1), None, "small")
    with pytest.raises(ConfigError, match=r"batch_size \(8\) times 2 processes is larger than the data set"):
        Sampler(data, 8, seed=0, device="cpu", rank=0, world=2)


def test_loss_driven_schedules_are_refused_in_multi_process_training():
    cfg = load_config("nonsaturating-ring8", ["model.schedule.name=adaptive"])
    recipe = cfg.model.build((2,), None, torch.device("cpu"))
    with pytest.raises(ConfigError, match="needs schedule: fixed"):
        recipe.distribute(lambda net: net, 0, 2)


def test_a_multi_process_environment_without_torchrun_is_explained(tiny_config, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(ConfigError, match="torchrun --nproc_per_node N -m genlab train"):
        build_trainer(tiny_config(), RunDir.create(tmp_path / "run", "tiny"))
