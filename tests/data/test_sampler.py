import pytest
import torch

from genlab.data import DataConfig, ImageSet, Sampler, load_dataset
from genlab.errors import ConfigError


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits", size=8, limit=50))


def test_each_epoch_visits_every_image_once_in_a_new_order(digits):
    sampler = Sampler(digits, batch_size=10, seed=3, device="cpu")
    index_of = {tuple(img.flatten().tolist()): i for i, img in enumerate(digits.images)}
    epochs = [[index_of[tuple(img.flatten().tolist())] for _ in range(5) for img in sampler().images] for _ in range(2)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == sorted(set(index_of.values()))
    assert epochs[0] != epochs[1]


def test_batches_keep_labels_aligned_and_drop_the_incomplete_tail(digits):
    sampler = Sampler(digits, batch_size=16, seed=0, device="cpu")
    for _ in range(7):  # 50 images -> 3 full batches per epoch
        batch = sampler()
        assert batch.images.shape == (16, 1, 8, 8)
        for image, label in zip(batch.images, batch.labels, strict=True):
            match = (digits.images == image).flatten(1).all(1)
            assert digits.labels[match].eq(label).all()
    assert sampler.epoch == 2


def test_restored_state_continues_with_identical_batches(digits):
    a = Sampler(digits, batch_size=16, seed=1, device="cpu")
    for _ in range(4):
        a()
    b = Sampler(digits, batch_size=16, seed=1, device="cpu")
    b.load_state_dict(a.state_dict())
    for _ in range(5):
        assert torch.equal(a().images, b().images)


def test_drawing_a_batch_only_gathers_on_the_device(digits):
    sampler = Sampler(digits, batch_size=8, seed=0, device="cpu")
    sampler()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(3):  # same epoch: no new permutation
            sampler()
    ops = {event.name for event in prof.events()}
    assert "aten::index_select" in ops
    assert not ops & {"aten::to", "aten::_to_copy", "aten::copy_", "aten::randperm"}


def test_batch_larger_than_data_is_a_config_error(digits):
    with pytest.raises(ConfigError, match=r"train.batch_size \(64\) is larger than the data set \(50 images\)"):
        Sampler(digits, batch_size=64, seed=0, device="cpu")


def test_vector_data_is_batched_row_by_row_with_labels():
    rows = ImageSet(torch.arange(20.0).view(10, 2), torch.arange(10), "points")  # row i is (2i, 2i + 1)
    sampler = Sampler(rows, batch_size=4, seed=0, device="cpu")
    seen = []
    for _ in range(2):  # one epoch: 10 rows -> 2 full batches
        batch = sampler()
        assert batch.images.shape == (4, 2)
        assert torch.equal(batch.images[:, 0], 2.0 * batch.labels)
        assert torch.equal(batch.images[:, 1], batch.images[:, 0] + 1)
        seen += batch.labels.tolist()
    assert len(set(seen)) == 8
    sampler()
    assert sampler.epoch == 1
