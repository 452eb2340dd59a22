"""The evaluation suite: metrics on plain feature arrays, feature extractors, and the evaluator that joins them.

Functions on arrays (numpy or torch, shape (N, D)) return plain floats, a (mean, std) pair where there are both:
``frechet_distance``, ``fid_from_features``, ``kid``, ``inception_score``, ``precision_recall``,
``density_coverage``, ``kl_divergence``, ``js_divergence``, ``js_distance``, ``total_variation``, ``wasserstein1``,
``emd``, ``memorisation``, ``linear_probe``, ``stacked_mnist_modes``, ``mode_stats``; ``realism_scores`` gives one
score per sample. :class:`Evaluator` and ``genlab eval`` apply them to generated images through a feature extractor
(:mod:`genlab.metrics.features`); the metrics it applies come from the registry :data:`METRICS`
(:mod:`genlab.metrics.base`), which every metric module adds itself to.
"""

from genlab.metrics.base import METRICS, EvalConfig, Metric, MetricInputs
from genlab.metrics.divergences import emd, js_distance, js_divergence, kl_divergence, total_variation, wasserstein1
from genlab.metrics.evaluate import EvalResult, Evaluator
from genlab.metrics.features import load_classifier, make_extractor
from genlab.metrics.frechet import feature_statistics, fid_from_features, frechet_distance
from genlab.metrics.inception_score import inception_score
from genlab.metrics.kid import kid
from genlab.metrics.memorisation import memorisation
from genlab.metrics.modes import MODE_SAMPLES, ModeStats, mode_stats
from genlab.metrics.nearest import nearest_distance, nearest_neighbour_scores
from genlab.metrics.prdc import density_coverage, precision_recall, realism_scores
from genlab.metrics.probe import discriminator_features, linear_probe
from genlab.metrics.stacked import stacked_mnist_modes
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = [
    "METRICS",
    "MODE_SAMPLES",
    "EvalConfig",
    "EvalResult",
    "Evaluator",
    "Metric",
    "MetricInputs",
    "ModeStats",
    "density_coverage",
    "discriminator_features",
    "emd",
    "feature_statistics",
    "fid_from_features",
    "frechet_distance",
    "inception_score",
    "js_distance",
    "js_divergence",
    "kid",
    "kl_divergence",
    "linear_probe",
    "load_classifier",
    "make_extractor",
    "memorisation",
    "mode_stats",
    "nearest_distance",
    "nearest_neighbour_scores",
    "precision_recall",
    "realism_scores",
    "stacked_mnist_modes",
    "total_variation",
    "wasserstein1",
]
