"""Class accuracy and class-wise FID: hand-computed cases, and real images scored as a perfect conditional G."""

import numpy as np
import pytest

from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.metrics import EvalConfig, Evaluator, fid_from_features
from genlab.metrics.conditional import class_accuracy, classwise_fid


def test_class_accuracy_counts_argmax_matches():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert class_accuracy(probs, [0, 1, 1, 0]) == 0.5


def test_classwise_fid_is_the_fid_of_each_class_alone():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 3))
    real_labels = np.repeat([0, 1], 200)
    fake = rng.normal(size=(300, 3)) + np.repeat([[0.0], [2.0]], [150, 150], axis=0)
    fake_labels = np.repeat([0, 1], 150)
    scores = classwise_fid(real, real_labels, fake, fake_labels)
    assert scores[0] == pytest.approx(fid_from_features(real[:200], fake[:150]))
    assert scores[1] == pytest.approx(fid_from_features(real[200:], fake[150:]))
    assert scores[1] > 10 * scores[0]  # class 1 was shifted by 2 in every coordinate
    with pytest.raises(ValueError, match="class 1 has 200 real and 1 generated"):
        classwise_fid(real, real_labels, fake[:151], fake_labels[:151])


def test_true_labels_score_high_accuracy_and_low_classwise_fid_and_swapped_labels_do_not():
    test = load_dataset(DataConfig(name="digits", split="test"))
    evaluator = Evaluator(EvalConfig(n=1000, metrics=("classwise",)), DataConfig(name="digits"), cache=False)
    right = evaluator.evaluate(test.images, labels=test.labels).values
    swapped = evaluator.evaluate(test.images, labels=(test.labels + 1) % 10).values
    assert right["class_accuracy"] > 0.97 and swapped["class_accuracy"] < 0.05
    assert right["classwise_fid"] < 0.2 * swapped["classwise_fid"]
    assert {f"fid_class_{c}" for c in range(10)} <= right.keys()
    with pytest.raises(ConfigError, match="conditional generators"):
        evaluator.evaluate(test.images)
