import sys
from pathlib import Path

import pytest
import torch

from genlab.build import build_trainer
from genlab.config import dump_config
from genlab.data import Sampler, load_dataset
from genlab.errors import ConfigError, GenlabError
from genlab.train import RunDir, read_metrics
from genlab.train.trainer import IntervalMeans

GENLAB_SRC = str(Path(__import__("genlab").__file__).parent)
HOST_READS = ["item", "tolist", "numpy", "cpu", "nonzero", "__bool__", "__float__", "__int__", "__index__"]


def test_run_folder_holds_config_metrics_samples_checkpoints_and_events(tiny_config, tmp_path):
    cfg = tiny_config("train.loggers=[jsonl,tensorboard]", "train.keep_checkpoints=1")
    result = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name)).fit()
    run = RunDir(tmp_path / "run")
    assert result.step == 20 and result.run_dir == run.path
    assert run.config_path.read_text() == dump_config(cfg)
    records = read_metrics(run.metrics_path)
    assert [r["step"] for r in records] == [5, 10, 15, 20]
    assert {"loss/d", "loss/g", "D(x)", "D(G(z))", "images_per_s", "elapsed"} <= set(records[0])
    assert sorted(p.name for p in run.samples_dir.iterdir()) == ["step-00000010.png", "step-00000020.png"]
    assert [p.name for p in run.checkpoints()] == ["ckpt-00000020.pt"]  # keep_checkpoints=1 pruned step 10
    assert list(run.tensorboard_dir.glob("events.out.tfevents.*"))
    assert not list(run.path.rglob("*.tmp"))


def test_a_run_folder_is_never_overwritten(tiny_config, tmp_path):
    cfg = tiny_config("train.steps=2")
    build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name)).fit()
    with pytest.raises(ConfigError, match=r"already holds a run.*--resume"):
        RunDir.create(tmp_path / "run", cfg.name)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, where every write fails as on a full disk")
def test_a_full_disk_stops_training_with_an_error_naming_the_file_and_the_good_checkpoint(tiny_config, tmp_path):
    cfg = tiny_config("train.log_every=12")  # a checkpoint at step 10, the first record at step 12
    run = RunDir.create(tmp_path / "run", cfg.name)
    run.metrics_path = Path("/dev/full")
    message = (
        r"could not write /dev/full: the disk is full\. Training stopped at step 12; .*ckpt-00000010\.pt is the last "
        rf"good checkpoint and was kept\. Free some disk space, then continue with `genlab train --resume {run.path}`"
    )
    with pytest.raises(GenlabError, match=message):
        build_trainer(cfg, run).fit()
    RunDir(run.path).lock()  # training released the run folder when it stopped


def test_default_run_folders_are_unique(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = RunDir.create(None, "x")
    first.config_path.write_text("name: x\n")
    second = RunDir.create(None, "x")
    assert first.path != second.path and second.path.parent == Path("runs")


def test_no_host_reads_in_train_step_or_metric_accumulation(tiny_config, monkeypatch):
    """Values must stay on the device in the hot loop; only IntervalMeans.read copies them out."""
    cfg = tiny_config("model.d_steps=2")
    data = load_dataset(cfg.data)
    recipe = cfg.model.build(data.shape, data.num_classes, torch.device("cpu"))
    sampler = Sampler(data, cfg.train.batch_size, 0, "cpu")
    means = IntervalMeans()
    reads: list[tuple[str, str, int]] = []
    for name in HOST_READS:
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            caller = sys._getframe(1)
            if caller.f_code.co_filename.startswith(GENLAB_SRC):
                reads.append((_name, caller.f_code.co_filename, caller.f_lineno))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, spy)
    for step in range(3):
        means.add(recipe.train_step(sampler, step), step + 1)
    assert reads == []
    means.read()  # the logging point: the one place values leave the device
    assert [r[0] for r in reads] == ["tolist"]
