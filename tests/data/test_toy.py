import math

import numpy as np
import pytest
import torch

from genlab.data import DataConfig, ImageSet, load_dataset
from genlab.data.toy import MIXTURES
from genlab.errors import DataError


@pytest.fixture(scope="module")
def grid25():
    return load_dataset(DataConfig(name="grid25"))


def test_means_follow_the_pacgan_definitions():
    ring, grid = MIXTURES["ring8"], MIXTURES["grid25"]
    assert ring.std == 0.01 and grid.std == 0.05
    assert ring.num_modes == 8 and grid.num_modes == 25
    h = math.sqrt(0.5)
    expected_ring = [(1, 0), (h, h), (0, 1), (-h, h), (-1, 0), (-h, -h), (0, -1), (h, -h)]
    assert np.allclose(ring.means, expected_ring, atol=1e-12)
    assert sorted(map(tuple, grid.means.tolist())) == [(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)]


def test_splits_have_the_documented_sizes_shapes_and_labels(grid25):
    assert grid25.images.shape == (100_000, 2) and grid25.images.dtype == torch.float32
    assert grid25.shape == (2,) and grid25.num_classes == 25
    ring_test = load_dataset(DataConfig(name="ring8", split="test"))
    assert ring_test.images.shape == (10_000, 2) and ring_test.num_classes == 8
    assert len(load_dataset(DataConfig(name="ring8", split="all"))) == 110_000


def test_components_are_recovered_with_equal_weights_and_coordinates_kept(grid25):
    mixture = MIXTURES["grid25"]
    counts = torch.bincount(grid25.labels, minlength=25)
    assert (counts - 4000).abs().max() <= 300  # 100,000 / 25, binomial sd ~62
    for k in range(25):
        points = grid25.images[grid25.labels == k].double()
        assert np.allclose(points.mean(0).numpy(), mixture.means[k], atol=0.005)
        assert np.allclose(points.std(0).numpy(), 0.05, rtol=0.05)
    assert 4.1 < grid25.images.max() < 4.4 and -4.4 < grid25.images.min() < -4.1  # not squashed into [-1, 1]


def test_draws_are_deterministic_splits_differ_and_all_is_train_then_test():
    train = load_dataset(DataConfig(name="ring8"))
    test = load_dataset(DataConfig(name="ring8", split="test"))
    assert torch.equal(train.images, load_dataset(DataConfig(name="ring8")).images)
    assert not torch.equal(train.images[:10_000], test.images)
    both = load_dataset(DataConfig(name="ring8", split="all"))
    assert torch.equal(both.images, torch.cat([train.images, test.images]))
    assert torch.equal(both.labels, torch.cat([train.labels, test.labels]))


def test_limit_trims_size_is_ignored_and_channels_are_refused():
    full = load_dataset(DataConfig(name="ring8", size=8))
    trimmed = load_dataset(DataConfig(name="ring8", size=64, limit=7))
    assert torch.equal(trimmed.images, full.images[:7]) and torch.equal(trimmed.labels, full.labels[:7])
    with pytest.raises(DataError, match=r"holds vectors.*data\.channels"):
        load_dataset(DataConfig(name="ring8", channels=1))


def test_image_set_holds_images_or_vectors_only():
    assert ImageSet(torch.zeros(5, 3), None, "v").shape == (3,)
    assert ImageSet(torch.zeros(5, 1, 4, 6), None, "i").shape == (1, 4, 6)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(N, D\), got \(5, 4, 4\)"):
        ImageSet(torch.zeros(5, 4, 4), None, "x")
