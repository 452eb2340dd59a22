"""The classifier recipe: augmentation geometry, training through the shared trainer, clear errors."""

from __future__ import annotations

import pytest
import torch

from genlab.api import fit, load_run, sample
from genlab.config import load_config
from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError, GenlabError
from genlab.models.classifier import ClassifierConfig, random_shift, shift_images


def test_shift_images_moves_by_whole_pixels_and_pads_with_background():
    image = -torch.ones(2, 1, 8, 8)
    image[:, 0, 3, 0] = 1.0  # a bright pixel on the left border
    moved = shift_images(image, torch.tensor([[2.0, 1.0], [-1.0, 0.0]]))
    expected = -torch.ones(2, 1, 8, 8)
    expected[0, 0, 4, 2] = 1.0  # right by 2, down by 1
    # the second image's pixel left the frame: all background
    assert torch.allclose(moved, expected, atol=1e-5)


def test_random_shift_stays_within_its_range():
    image = -torch.ones(64, 1, 9, 9)
    image[:, 0, 4, 4] = 1.0
    torch.manual_seed(0)
    moved = random_shift(image, 1.0)
    assert torch.allclose(random_shift(image, 0.0), image, atol=1e-6)
    # a shift of at most one pixel keeps the (spread) bright spot within the 3x3 centre block
    outside = moved.clone()
    outside[:, :, 3:6, 3:6] = -1
    assert torch.allclose(outside, -torch.ones_like(outside), atol=1e-5)
    assert not torch.allclose(moved, image, atol=1e-3)


def test_classifier_learns_digits_in_the_shared_trainer(tmp_path):
    cfg = load_config(
        "classifier-digits",
        ["device=cpu", "train.steps=150", "train.progress=false", "train.loggers=[jsonl]", "model.width=8"],
    )
    result = fit(cfg, out=tmp_path / "run")
    trained = load_run(result.run_dir, "cpu")
    test = load_dataset(DataConfig(name="digits", size=8, split="test"))
    untrained = ClassifierConfig(width=8).build((1, 8, 8), 10, torch.device("cpu"))
    assert trained.accuracy(test.images, test.labels) > 0.85
    assert untrained.accuracy(test.images, test.labels) < 0.4
    assert not (tmp_path / "run" / "samples").exists() or not any((tmp_path / "run" / "samples").iterdir())
    with pytest.raises(GenlabError, match="does not generate samples"):
        sample(result.run_dir, 4, device="cpu")


def test_classifier_needs_labelled_images():
    with pytest.raises(ConfigError, match="labelled image data set"):
        ClassifierConfig().build((2,), None, torch.device("cpu"))
