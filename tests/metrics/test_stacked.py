import math

import numpy as np
import pytest
import torch

from genlab.data import DataConfig, load_dataset
from genlab.metrics.stacked import stacked_mnist_modes


def grey_level(digit: torch.Tensor) -> torch.Tensor:
    """The constant grey value in [-1, 1] that encodes ``digit``: the centre of the digit's tenth of the range."""
    return -1 + 2 * (digit.double() + 0.5) / 10


def stacked_images(modes: list[int] | np.ndarray, size: int = 8) -> torch.Tensor:
    """Constant Stacked MNIST-like images (N, 3, size, size) whose channels encode the digits of ``modes``."""
    modes = torch.as_tensor(np.asarray(modes), dtype=torch.long)
    digits = torch.stack([modes // 100, modes // 10 % 10, modes % 10], dim=1)  # (N, 3)
    return grey_level(digits)[:, :, None, None].expand(-1, -1, size, size).float().contiguous()


class MeanIntensityClassifier:
    """Reads the digit back from a channel's mean intensity; records the batch sizes it was called with."""

    def __init__(self):
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(images.shape))
        mean = images.mean(dim=(1, 2, 3))
        return ((mean + 1) / 2 * 10).floor().long().clamp(0, 9)


def test_all_modes_equally_often_give_1000_modes_and_zero_kl():
    images = stacked_images(np.tile(np.arange(1000), 2))
    result = stacked_mnist_modes(images, MeanIntensityClassifier())
    assert result["modes"] == 1000 and result["n"] == 2000
    assert result["kl"] == pytest.approx(0.0, abs=1e-12)


def test_a_single_mode_gives_kl_ln_1000():
    result = stacked_mnist_modes(stacked_images([417] * 50), MeanIntensityClassifier())
    assert result == {"modes": 1, "kl": pytest.approx(math.log(1000)), "n": 50}


def test_two_modes_by_hand():
    # p = (3/4, 1/4) on modes 123 and 321: KL = 3/4 ln(3/4 * 1000) + 1/4 ln(1/4 * 1000).
    result = stacked_mnist_modes(stacked_images([123, 123, 321, 123]), MeanIntensityClassifier())
    assert result["modes"] == 2
    assert result["kl"] == pytest.approx(0.75 * math.log(750) + 0.25 * math.log(250), rel=1e-12)


def test_channel_order_is_red_hundreds_green_tens_blue_units():
    # Modes 100, 010 and 001 differ only in which channel holds the 1; a swapped order would merge or rename them.
    # Decode through a classifier that records what it saw, so the mode arithmetic is checked, not just the count.
    seen = []

    def classify(grey):
        digits = MeanIntensityClassifier()(grey)
        seen.append(digits)
        return digits

    images = stacked_images([100, 10, 1, 1, 1])
    result = stacked_mnist_modes(images, classify)
    assert torch.cat(seen).tolist() == [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    p = np.array([1, 1, 3]) / 5
    assert result["modes"] == 3 and result["kl"] == pytest.approx(float(np.sum(p * np.log(p * 1000))))


def test_channels_are_classified_in_chunks_not_one_by_one():
    classifier = MeanIntensityClassifier()
    modes = np.random.default_rng(0).integers(0, 1000, 700)
    small = stacked_mnist_modes(stacked_images(modes), classifier, batch_size=512)
    assert classifier.calls == [(512, 1, 8, 8)] * 4 + [(2100 - 4 * 512, 1, 8, 8)]
    # Same result as one big batch and as the histogram computed directly from the encoded modes.
    assert small == stacked_mnist_modes(stacked_images(modes), MeanIntensityClassifier(), batch_size=10_000)
    counts = np.bincount(modes, minlength=1000)
    p = counts[counts > 0] / counts.sum()
    assert small["modes"] == len(np.unique(modes))
    assert small["kl"] == pytest.approx(float(np.sum(p * np.log(1000 * p))), rel=1e-12)


def test_numpy_input_is_accepted():
    images = stacked_images([5, 5, 999]).numpy()
    assert stacked_mnist_modes(images, MeanIntensityClassifier())["modes"] == 2


def test_real_stacked_mnist_with_the_shipped_classifier_matches_the_label_histogram(mnist_dir, monkeypatch):
    from genlab.metrics.features import load_classifier

    monkeypatch.setenv("GENLAB_DATA", str(mnist_dir.parent))
    data = load_dataset(DataConfig(name="stacked-mnist", size=28, split="test", limit=2000))
    result = stacked_mnist_modes(data.images, load_classifier("mnist").predict)
    counts = np.bincount(data.labels.numpy(), minlength=1000)
    p = counts[counts > 0] / counts.sum()
    # The classifier is 99.6% accurate per digit, so about 1.3% of the 2,000 triples are misread: the histogram
    # changes by a few samples, which moves the counts by a handful of modes and the KL by a few hundredths at most.
    assert abs(result["modes"] - int((counts > 0).sum())) <= 10
    assert result["kl"] == pytest.approx(float(np.sum(p * np.log(1000 * p))), abs=0.03)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (torch.zeros(4, 1, 8, 8), r"shape \(N, 3, H, W\)"),
        (torch.zeros(0, 3, 8, 8), "N >= 1"),
        (torch.zeros(4, 3, 8), r"shape \(N, 3, H, W\)"),
        (torch.full((4, 3, 8, 8), 255.0), r"in \[-1, 1\]"),
        (torch.full((4, 3, 8, 8), float("nan")), "finite"),
    ],
)
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        stacked_mnist_modes(images, MeanIntensityClassifier())


@pytest.mark.parametrize(
    ("classify", "message"),
    [
        (lambda grey: torch.zeros(len(grey), 10), "one prediction per image"),
        (lambda grey: torch.zeros(len(grey) - 1, dtype=torch.long), "one prediction per image"),
        (lambda grey: torch.zeros(len(grey)), "integer digits"),
        (lambda grey: torch.full((len(grey),), 10), "digits in 0..9"),
        (lambda grey: torch.full((len(grey),), -1), "digits in 0..9"),
    ],
)
def test_bad_classifier_outputs_are_refused(classify, message):
    with pytest.raises(ValueError, match=message):
        stacked_mnist_modes(stacked_images([1, 2, 3]), classify)


def test_bad_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch_size"):
        stacked_mnist_modes(stacked_images([1]), MeanIntensityClassifier(), batch_size=0)
