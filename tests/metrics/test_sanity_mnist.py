"""Sanity checks of the metrics on real MNIST through the shipped classifier (the issue's list, item by item)."""

from __future__ import annotations

import pytest
import torch

from genlab.data import DataConfig, load_dataset
from genlab.metrics import density_coverage, fid_from_features, inception_score, kid, precision_recall
from genlab.metrics.features import load_classifier

pytestmark = pytest.mark.slow
N = 5000


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    """Features of 5,000 train and 5,000 test images, of noise, and of one digit repeated; probabilities too."""
    classifier = load_classifier("mnist")
    train = load_dataset(DataConfig(name="mnist", size=28, split="train", path=str(mnist_dir), limit=N))
    test = load_dataset(DataConfig(name="mnist", size=28, split="test", path=str(mnist_dir), limit=N))
    ones = train.images[train.labels == 1][:N]
    noise = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    single = train.images[:1].expand(1000, -1, -1, -1)
    return {
        "train": classifier(train.images),
        "test": classifier(test.images),
        "ones": classifier(ones),
        "noise": classifier(noise),
        "single": classifier(single),
    }


def test_fid_is_small_between_real_sets_and_large_for_noise_or_one_repeated_digit(mnist):
    real = fid_from_features(mnist["train"].features, mnist["test"].features)
    noise = fid_from_features(mnist["train"].features, mnist["noise"].features)
    single = fid_from_features(mnist["train"].features, mnist["single"].features)
    assert real * 50 < min(noise, single)


def test_inception_score_of_real_digits_is_near_ten_and_of_one_class_near_one(mnist):
    real, _ = inception_score(mnist["test"].probabilities)
    one_class, _ = inception_score(mnist["ones"].probabilities)
    assert 9.5 < real <= 10.0
    assert 1.0 <= one_class < 1.1


def test_precision_of_a_set_against_itself_is_one_and_recall_of_one_class_is_low(mnist):
    same = precision_recall(mnist["test"].features, mnist["test"].features)
    assert same["precision"] == 1.0 and same["recall"] == 1.0
    ones = precision_recall(mnist["train"].features, mnist["ones"].features)
    assert ones["recall"] < 0.2 < ones["precision"]
    coverage = density_coverage(mnist["train"].features, mnist["ones"].features)["coverage"]
    assert coverage < 0.2


def test_kid_of_two_halves_of_the_same_data_is_near_zero(mnist):
    features = mnist["test"].features
    mean, std = kid(features[::2], features[1::2], subsets=100, subset_size=1000)
    assert abs(mean) <= 2 * std
    far, _ = kid(features, mnist["noise"].features, subsets=20, subset_size=1000)
    assert far > 100 * std
