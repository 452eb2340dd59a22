"""Folders larger than data.memory_gib are streamed from disk, batch for batch as the in-memory sampler draws them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.build import resume_trainer
from genlab.data import DataConfig, ImageSet, Sampler, StreamedSet, open_dataset
from genlab.data import folder as folder_module
from genlab.data.stream import DiskImages
from genlab.errors import ConfigError, DataError
from genlab.metrics.features import RawFeatures
from genlab.metrics.reference import real_subset, reference_features
from genlab.train import load_checkpoint

from ..train.helpers import assert_same, straight_and_resumed, train
from .test_celeba import write_celeba

PER_CLASS = 15
BYTES = 2 * PER_CLASS * 3 * 8 * 8 * 4
"""The test folder in memory: 30 images x 3 channels x 8 x 8 pixels x 4 bytes (float32)."""
GIB = 2**30


def write_folder(root: Path) -> Path:
    """Two class sub-folders of 10x12 noise images; the first file is grey, so the folder loads as RGB by widening."""
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for i in range(PER_CLASS):
            pixels = rng.integers(0, 256, (10, 12) if i == 0 else (10, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    return write_folder(tmp_path_factory.mktemp("photos") / "photos")


def config(root: Path, **settings) -> DataConfig:
    return DataConfig(name="folder", path=str(root), size=8, flip=True, **settings)


def draws(sampler: Sampler, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [tuple(sampler()) for _ in range(n)]


def assert_same_batches(a: list, b: list) -> None:
    for i, ((images_a, labels_a), (images_b, labels_b)) in enumerate(zip(a, b, strict=True)):
        assert torch.equal(images_a, images_b), f"batch {i}: images differ"
        assert torch.equal(labels_a, labels_b), f"batch {i}: labels differ"


def test_a_folder_over_the_budget_streams_the_batches_the_in_memory_sampler_draws(photos):
    memory, _ = open_dataset(config(photos))
    streamed, choice = open_dataset(config(photos, memory_gib=(BYTES - 1) / GIB, workers=0))
    assert isinstance(memory, ImageSet) and isinstance(streamed, StreamedSet) and choice.loader == "stream"
    assert streamed.shape == (3, 8, 8) and streamed.num_classes == 2
    expected = draws(Sampler(memory, 8, 5, "cpu", flip=True, crop=0.7), 8)  # 3 batches an epoch: into the third
    assert_same_batches(draws(Sampler(streamed, 8, 5, "cpu", flip=True, crop=0.7), 8), expected)
    assert set(expected[0][1].tolist()) == {0, 1}  # both classes' labels, from the sub-folders


def test_auto_keeps_a_folder_that_fits_in_memory_and_the_line_gives_its_size(photos):
    data, choice = open_dataset(config(photos, memory_gib=BYTES / GIB))
    assert isinstance(data, ImageSet) and choice.loader == "memory"
    assert choice.message == (
        f"data: 30 images of 3x8x8 take {BYTES / 2**20:.3g} MiB on the device, within data.memory_gib="
        f"{BYTES / GIB:g}: in memory (data.loader=stream streams)"
    )
    forced, choice = open_dataset(config(photos, memory_gib=(BYTES - 1) / GIB, loader="memory"))
    assert isinstance(forced, ImageSet) and "more than data.memory_gib" in choice.message
    assert "as data.loader=memory asks" in choice.message


def test_a_half_that_keeps_no_file_is_a_data_error(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "only.png")
    with pytest.raises(DataError, match=r"data.half: first keeps none of the 1 image\(s\) of 'folder'"):
        open_dataset(DataConfig(name="folder", path=str(tmp_path), half="first"))


def test_the_line_says_it_streams_and_with_how_many_workers(photos):
    _, choice = open_dataset(config(photos, memory_gib=(BYTES - 1) / GIB, workers=3))
    assert choice.message == (
        f"data: 30 images of 3x8x8 would take {BYTES / 2**20:.3g} MiB on the device, more than data.memory_gib="
        f"{(BYTES - 1) / GIB:g}: streaming from disk with 3 worker processes (data.loader=memory forces memory)"
    )


def test_celeba_streams_its_attribute_labels_and_grey_inverted_images_as_in_memory(tmp_path):
    write_celeba(tmp_path / "celeba", n=7)
    settings = {"name": "celeba", "path": str(tmp_path), "size": 8, "attribute": "Smiling", "limit": 6}
    memory, _ = open_dataset(DataConfig(**settings, channels=1, style="invert"))
    streamed, _ = open_dataset(DataConfig(**settings, channels=1, style="invert", loader="stream", workers=0))
    assert streamed.shape == memory.shape == (1, 8, 8) and len(streamed) == 6
    assert streamed.class_names == ("not Smiling", "Smiling")
    assert_same_batches(draws(Sampler(streamed, 3, 0, "cpu"), 4), draws(Sampler(memory, 3, 0, "cpu"), 4))


def test_a_restored_streaming_sampler_continues_mid_epoch_exactly(photos):
    streamed, _ = open_dataset(config(photos, loader="stream", workers=0))
    straight = Sampler(streamed, 8, 2, "cpu", flip=True)
    draws(straight, 4)  # epoch 1, one batch in
    resumed = Sampler(streamed, 8, 2, "cpu", flip=True)
    draws(resumed, 2)  # it has read ahead from elsewhere: restoring must drop that
    resumed.load_state_dict(straight.state_dict())
    assert_same_batches(draws(resumed, 4), draws(straight, 4))
    assert resumed.state_dict() == straight.state_dict()


def test_two_worker_processes_give_the_batches_of_none(photos):
    alone, _ = open_dataset(config(photos, loader="stream", workers=0))
    workers, _ = open_dataset(config(photos, loader="stream", workers=2))
    assert Sampler(workers, 8, 1, "cpu").source.workers == 2
    assert_same_batches(
        draws(Sampler(workers, 8, 1, "cpu", flip=True), 5), draws(Sampler(alone, 8, 1, "cpu", flip=True), 5)
    )


def test_workers_leave_ctrl_c_and_sigterm_to_the_training_process(photos):
    data, _ = open_dataset(config(photos, loader="stream", workers=1))
    sampler = Sampler(data, 8, 0, "cpu")
    sampler()
    (worker,) = sampler.source._batches._workers  # the loader's worker processes (a private attribute of torch's)
    os.kill(worker.pid, signal.SIGINT)
    os.kill(worker.pid, signal.SIGTERM)
    draws(sampler, 6)  # more than the worker had read ahead: it still reads
    assert worker.is_alive()


def test_a_corrupt_file_read_by_a_worker_is_a_data_error_naming_it(tmp_path):
    root = write_folder(tmp_path / "photos")
    (root / "dogs" / "zz.png").write_bytes(b"not a png at all")
    data, _ = open_dataset(config(root, loader="stream", workers=1))
    sampler = Sampler(data, 31, 0, "cpu")  # every batch holds every file
    with pytest.raises(DataError) as raised:
        sampler()
    assert str(raised.value).startswith(f"cannot read image file {root / 'dogs' / 'zz.png'} (")
    assert "Traceback" not in str(raised.value) and "worker" not in str(raised.value)


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """The files decoded from now on."""
    read, original = [], folder_module.read_image

    def counted(path: Path, size: int, fit: str) -> torch.Tensor:
        read.append(path)
        return original(path, size, fit)

    monkeypatch.setattr(folder_module, "read_image", counted)
    return read


def test_the_real_subset_of_a_streamed_folder_reads_only_its_files(photos, reads):
    streamed, _ = open_dataset(config(photos, loader="stream"))
    images, labels = real_subset(streamed, 5)
    assert len(reads) == 5
    expected_images, expected_labels = real_subset(open_dataset(config(photos))[0], 5)
    assert torch.equal(images, expected_images) and torch.equal(labels, expected_labels)


def test_reference_statistics_read_only_n_files_and_do_not_depend_on_the_loader(photos, reads, tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))
    streamed = reference_features(config(photos, loader="stream", workers=2), 5, RawFeatures())
    assert len(reads) == 5 and not streamed.cached
    in_memory = reference_features(config(photos, loader="memory"), 5, RawFeatures())
    assert in_memory.cached and in_memory.key == streamed.key


def test_a_streamed_run_trains_as_the_in_memory_run_and_resumes_exactly(photos, tiny_config, tmp_path, capsys):
    folder = ("data.name=folder", f"data.path={photos}", "data.flip=true", "data.workers=0", "train.report=false")
    memory = train(tiny_config(*folder, "train.steps=10"), tmp_path / "memory")
    capsys.readouterr()
    full, resumed = straight_and_resumed(tiny_config, 10, 5, tmp_path, *folder, "data.loader=stream")
    assert "data: streaming 30 images of 3x8x8 from disk with no worker processes" in capsys.readouterr().err
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")
    assert_same(memory.recipe.state_dict(), full.recipe.state_dict(), "recipe")
    meta = load_checkpoint(full.run.latest_checkpoint())
    assert meta["data"]["loader"] == "stream"
    # how the images are read may change on resume (not which ones)
    switched = resume_trainer(tmp_path / "memory", ["train.steps=15", "data.loader=stream", "data.workers=2"])
    assert isinstance(switched.sampler.source, DiskImages) and switched.sampler.source.workers == 2
    switched.run.unlock()
    with pytest.raises(ConfigError, match=r"cannot change 'data.size' when resuming: only .*data.loader"):
        resume_trainer(tmp_path / "memory", ["data.size=16"])
