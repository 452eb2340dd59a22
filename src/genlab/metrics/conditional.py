"""Scores of a conditional generator: does it draw the class it is asked for, and how well within each class?

* class accuracy: the share of generated images that a classifier assigns to the requested class (the cGAN
  counterpart of a classifier's test accuracy; real test images score the classifier's own accuracy);
* class-wise FID: the Fréchet distance between the generated and the real images of each class, and their mean.
  An overall FID can be low while classes are swapped or mixed; the class-wise one cannot.
"""

from __future__ import annotations

import numpy as np

from genlab.errors import ConfigError
from genlab.metrics.arrays import Array, to_numpy
from genlab.metrics.base import METRICS, Metric, MetricInputs
from genlab.metrics.frechet import fid_from_features
from genlab.metrics.probe import labels_array

MIN_PER_CLASS = 2
"""A Gaussian fit needs at least two samples of a class."""


def class_accuracy(probabilities: Array, requested: Array) -> float:
    """Share of rows of ``probabilities`` (N, K) whose most likely class is the ``requested`` label (N,)."""
    probs = to_numpy(probabilities, "probabilities")
    wanted = labels_array(requested, len(probs), "requested labels")
    return float((probs.argmax(axis=1) == wanted).mean())


def classwise_fid(real: Array, real_labels: Array, fake: Array, fake_labels: Array) -> dict[int, float]:
    """FID between the real and the generated features of every class present among the generated labels."""
    real_x, fake_x = to_numpy(real, "real features"), to_numpy(fake, "generated features")
    real_y = labels_array(real_labels, len(real_x), "real labels")
    fake_y = labels_array(fake_labels, len(fake_x), "generated labels")
    scores = {}
    for c in np.unique(fake_y):
        r, f = real_x[real_y == c], fake_x[fake_y == c]
        if min(len(r), len(f)) < MIN_PER_CLASS:
            raise ValueError(
                f"class {c} has {len(r)} real and {len(f)} generated samples; a class-wise FID needs at least "
                f"{MIN_PER_CLASS} of each (evaluate more samples)"
            )
        scores[int(c)] = fid_from_features(r, f)
    return scores


@METRICS.register("classwise")
class Classwise(Metric):
    """Conditional generators: the classifier's accuracy on the requested classes and the FID per class."""

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        if inputs.labels is None:
            raise ConfigError(
                "eval.metrics: 'classwise' scores conditional generators (model.condition); "
                "this one draws no requested classes"
            )
        fake, real = inputs.fake, inputs.real
        if fake.probabilities is None or real.labels is None:
            raise ConfigError(
                "eval.metrics: 'classwise' needs a classifier's classes (eval.features: auto or a classifier) "
                f"and a labelled data set; '{inputs.data.name}' with features '{inputs.cfg.features}' lacks one"
            )
        per_class = classwise_fid(real.extracted.features, real.labels, fake.features, inputs.labels)
        return {
            "class_accuracy": class_accuracy(fake.probabilities, inputs.labels),
            "classwise_fid": sum(per_class.values()) / len(per_class),
            **{f"fid_class_{c}": v for c, v in per_class.items()},
        }
