"""What every metric of the evaluation suite implements, and the registry ``eval.metrics`` picks them from.

A metric is one class in its own module, registered by name (``@METRICS.register("fid")``), like objectives and
recipes: adding one is that file plus its test, and ``eval.metrics`` accepts its name at once (also for a metric
registered by user code before the config is loaded). The :class:`~genlab.metrics.evaluate.Evaluator` hands each
metric a :class:`MetricInputs`: the generated samples and, computed once for all metrics that need them, their
features and those of the real reference set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, ClassVar, Literal

import torch
from pydantic import field_validator

from genlab.data import DataConfig
from genlab.metrics.features import Extracted
from genlab.metrics.reference import Reference
from genlab.registry import Registry
from genlab.schema import Range, Section


@dataclass
class MetricInputs:
    """What one evaluation offers its metrics; features are extracted on first use and shared."""

    samples: torch.Tensor
    """Generated samples (images in [-1, 1], or vectors)."""
    cfg: EvalConfig
    data: DataConfig
    """The real data set, at the split the samples are compared with (``eval.real_split``)."""
    labels: torch.Tensor | None
    """The classes a conditional generator was asked for, one per sample (None for unconditional ones)."""
    discriminator: torch.nn.Module | None
    extract: Callable[[torch.Tensor], Extracted]
    reference: Callable[[str], Reference]
    """The real reference set's features for a split ("train" or "test"; cached)."""

    @cached_property
    def fake(self) -> Extracted:
        """The samples' features in the evaluator's feature space."""
        return self.extract(self.samples)

    @property
    def real(self) -> Reference:
        return self.reference(self.cfg.real_split)


class Metric:
    """Base of the metrics; subclasses set the class variables and implement :meth:`__call__`."""

    in_feature_space: ClassVar[bool] = True
    """Whether the metric compares features of the samples with those of the real reference set (then the
    evaluator records the extractor and the real set in the result's provenance)."""
    biased_below: ClassVar[int | None] = None
    """Sample count below which the metric is biased (FID, KID: 10,000); results from fewer samples say so."""
    label: ClassVar[str] = ""
    """How the provenance note names the metric (FID, KID)."""

    def check(self, data_name: str, features: str) -> None:
        """Raise ConfigError (naming ``eval.metrics``) when the metric cannot apply to this data and feature space."""

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        """The metric's values, under stable keys."""
        raise NotImplementedError

    def note(self, values: dict[str, float]) -> str | None:
        """A remark the result's provenance should carry about these values (e.g. why a value is NaN), or None."""
        return None


METRICS: Registry[type[Metric]] = Registry("metric")


class EvalConfig(Section):
    """Which metrics to compute, on how many samples, in which feature space; also used by ``genlab eval``."""

    every: Annotated[int, Range(ge=0)] = 0
    """Steps between evaluations during training (0: never); the values are logged beside the losses."""
    n: Annotated[int, Range(ge=2)] = 10_000
    """Generated samples per evaluation (and real ones, capped by the real split's size)."""
    metrics: tuple[str, ...] = ("fid", "kid", "pr")
    """Names from the metric registry: fid, kid, is, pr, dc, modes, mem, probe, support, classwise (see `genlab eval
    --help`), and any metric registered by user code."""
    features: str = "auto"
    """auto (the data set's shipped classifier; raw points for ring8/grid25), inception, raw, a shipped
    classifier's name (digits, mnist) or the path of a classifier file from `genlab classifier train`."""
    inception_weights: str | None = None
    """Inception-v3 FID weights (pt_inception-2015-12-05-6726825d.pth); default: $GENLAB_INCEPTION_WEIGHTS."""
    real_split: Literal["train", "test"] = "train"
    """Real images the generated ones are compared with."""
    kid_subsets: Annotated[int, Range(ge=1)] = 100
    kid_subset_size: Annotated[int, Range(ge=2)] = 1000
    probe_per_class: Annotated[int, Range(ge=1)] = 10
    """Labelled real images per class for the discriminator-feature probe."""
    seed: Annotated[int, Range(ge=0)] = 0
    """Latent seed of the evaluated samples (the same at every evaluation, so curves compare like with like)."""

    @field_validator("metrics")
    @classmethod
    def _registered(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in names if name not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric {', '.join(unknown)}; choose from {', '.join(METRICS.names())}")
        return names
