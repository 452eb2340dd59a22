"""The evaluation suite behind ``genlab eval`` and periodic evaluation during training.

An :class:`Evaluator` holds one feature extractor and the cached features of the real reference set; it scores a
batch of generated samples with any of the metrics below and records where each number came from (extractor,
weights digest, preprocessing, sample counts, real split), because a FID without its provenance cannot be compared
with anything.

    fid    Frechet distance between Gaussian fits of the features          (lower is better)
    kid    kernel inception distance: unbiased MMD^2, cubic kernel, mean and std over subsets (lower is better)
    is     Inception Score with the extractor's classes, mean and std over 10 splits (higher is better)
    pr     precision and recall of k-NN manifolds, k = 3                   (higher is better)
    dc     density and coverage, k = 5                                     (higher is better)
    modes  mode counts: Stacked MNIST (1,000 modes) or the 2-D mixtures ring8 / grid25
    mem    memorisation: share of samples closer to the training set than 99 % of held-out real images
    probe  accuracy of a linear classifier on the discriminator's features, ``probe_per_class`` labels per class
    classwise  conditional generators: the classifier's accuracy on the requested classes and the FID per class
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import torch

from genlab.data import DataConfig, load_dataset
from genlab.data.toy import MIXTURES
from genlab.errors import ConfigError
from genlab.metrics.conditional import class_accuracy, classwise_fid
from genlab.metrics.features import Extracted, FeatureExtractor, load_classifier, make_extractor
from genlab.metrics.frechet import fid_from_features
from genlab.metrics.inception_score import inception_score
from genlab.metrics.kid import kid
from genlab.metrics.memorisation import closest_pairs, memorisation, plot_closest_pairs
from genlab.metrics.modes import mode_stats
from genlab.metrics.nearest import nearest_neighbours
from genlab.metrics.prdc import density_coverage, precision_recall
from genlab.metrics.probe import discriminator_features, linear_probe
from genlab.metrics.reference import Reference, real_subset, reference_features
from genlab.metrics.stacked import stacked_mnist_modes
from genlab.models.base import Recipe
from genlab.schema import Range, Section

MetricName = Literal["fid", "kid", "is", "pr", "dc", "modes", "mem", "probe", "classwise"]
METRICS: tuple[str, ...] = MetricName.__args__
FULL_SIZE = 10_000
"""FID and KID from fewer samples are biased (FID upward) and are labelled as such."""


class EvalConfig(Section):
    """Which metrics to compute, on how many samples, in which feature space; also used by ``genlab eval``."""

    every: Annotated[int, Range(ge=0)] = 0
    """Steps between evaluations during training (0: never); the values are logged beside the losses."""
    n: Annotated[int, Range(ge=2)] = 10_000
    """Generated samples per evaluation (and real ones, capped by the real split's size)."""
    metrics: tuple[MetricName, ...] = ("fid", "kid", "pr")
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


@dataclass
class EvalResult:
    values: dict[str, float]
    provenance: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"metrics": self.values, "provenance": self.provenance}

    def table(self) -> str:
        """The values as an aligned two-column table, with the provenance lines below."""
        width = max(len(k) for k in self.values) if self.values else 0
        lines = [f"{k:<{width}}  {v:.6g}" for k, v in self.values.items()]
        lines += [f"  {k}: {v}" for k, v in self.provenance.items()]
        return "\n".join(lines)


class Evaluator:
    """Scores generated samples against a real reference set of ``data`` (cached features) with ``cfg``'s metrics."""

    def __init__(self, cfg: EvalConfig, data: DataConfig, device: torch.device | str = "cpu", cache: bool = True):
        self.cfg = cfg
        self.data = data.model_copy(update={"split": cfg.real_split})
        self.cache = cache
        check_metrics(cfg.metrics, data.name, cfg.features)
        self.extractor: FeatureExtractor = make_extractor(
            cfg.features, data.name, inception_weights=cfg.inception_weights, device=device
        )
        self._references: dict[str, Reference] = {}

    def reference(self, split: str | None = None) -> Reference:
        split = split or self.cfg.real_split
        if split not in self._references:
            data = self.data.model_copy(update={"split": split})
            self._references[split] = reference_features(data, self.cfg.n, self.extractor, cache=self.cache)
        return self._references[split]

    def evaluate(
        self,
        samples: torch.Tensor,
        metrics: tuple[str, ...] | None = None,
        discriminator: torch.nn.Module | None = None,
        labels: torch.Tensor | None = None,
    ) -> EvalResult:
        """Score ``samples`` (in [-1, 1]); ``discriminator`` is needed for the probe metric only, the requested
        class ``labels`` of a conditional generator's samples for the classwise metric only."""
        metrics = metrics or self.cfg.metrics
        check_metrics(metrics, self.data.name, self.cfg.features)
        if "classwise" in metrics and labels is None:
            raise ConfigError(
                "eval.metrics: 'classwise' scores conditional generators (model.condition); "
                "this one draws no requested classes"
            )
        values: dict[str, float] = {}
        provenance: dict[str, object] = {"n_fake": len(samples)}
        if "modes" in metrics:
            values.update(self._modes(samples))
        if "probe" in metrics:
            values["probe_accuracy"] = self.probe(discriminator)
        in_feature_space = [m for m in metrics if m not in ("modes", "probe")]
        if in_feature_space:  # only these need the extractor and the real reference
            fake, real = self.extractor(samples), self.reference()
            for name in in_feature_space:
                values.update(self._metric(name, fake, real, labels))
            n_real = len(real.extracted.features)
            provenance |= {**self.extractor.provenance(), "real": real.description, "n_real": n_real}
            small = min(len(samples), n_real)
            if small < FULL_SIZE and {"fid", "kid"} & set(metrics):
                provenance["note"] = (
                    f"FID/KID from {small} < {FULL_SIZE} samples: biased, compare only with values at the same n"
                )
        return EvalResult(values, provenance)

    def _metric(
        self, name: str, fake: Extracted, real: Reference, labels: torch.Tensor | None = None
    ) -> dict[str, float]:
        r, f = real.extracted.features, fake.features
        if name == "fid":
            return {"fid": fid_from_features(r, f)}
        if name == "kid":
            mean, std = kid(r, f, subsets=self.cfg.kid_subsets, subset_size=self.cfg.kid_subset_size)
            return {"kid": mean, "kid_std": std}
        if name == "is":
            mean, std = inception_score(fake.probabilities)
            return {"is": mean, "is_std": std}
        if name == "pr":
            return precision_recall(r, f, k=3)
        if name == "dc":
            return density_coverage(r, f, k=5)
        if name == "mem":
            held_out = self.reference("test" if self.cfg.real_split == "train" else "train")
            found = memorisation(f, r, held_out.extracted.features)
            return {
                "mem_fraction": found["memorised_fraction"],
                "mem_median_distance": found["median_generated"],
                "mem_median_heldout": found["median_heldout"],
            }
        if name == "classwise":
            return self._classwise(fake, real, labels)
        raise ValueError(f"unknown metric {name}")

    def _classwise(self, fake: Extracted, real: Reference, labels: torch.Tensor) -> dict[str, float]:
        if fake.probabilities is None or real.labels is None:
            raise ConfigError(
                "eval.metrics: 'classwise' needs a classifier's classes (eval.features: auto or a classifier) "
                f"and a labelled data set; '{self.data.name}' with features '{self.cfg.features}' lacks one"
            )
        per_class = classwise_fid(real.extracted.features, real.labels, fake.features, labels)
        return {
            "class_accuracy": class_accuracy(fake.probabilities, labels),
            "classwise_fid": sum(per_class.values()) / len(per_class),
            **{f"fid_class_{c}": v for c, v in per_class.items()},
        }

    def closest_pairs_figure(self, samples: torch.Tensor, path: Path, k: int = 8) -> Path:
        """The ``k`` generated samples nearest to the real reference set beside their nearest real images."""
        distances, indices = nearest_neighbours(self.extractor(samples).features, self.reference().extracted.features)
        real_images, _ = real_subset(load_dataset(self.data), self.cfg.n)
        return plot_closest_pairs(samples.cpu(), real_images, closest_pairs(distances, indices, k), path)

    def probe(self, discriminator: torch.nn.Module | None) -> float:
        """Linear-probe accuracy on the test split of a discriminator's features (train: ``probe_per_class``
        labelled images per class from the reference subset)."""
        if discriminator is None:
            raise ConfigError("eval.metrics: 'probe' needs the run's discriminator; use it on unconditional GAN runs")
        train = load_dataset(self.data.model_copy(update={"split": "train"}))
        test = load_dataset(self.data.model_copy(update={"split": "test"}))
        if train.labels is None or test.labels is None:
            raise ConfigError(f"eval.metrics: 'probe' needs labelled data; '{self.data.name}' has no labels")
        train_images, train_labels = real_subset(train, self.cfg.n)
        return linear_probe(
            discriminator_features(discriminator, train_images),
            train_labels,
            discriminator_features(discriminator, test.images),
            test.labels,
            self.cfg.probe_per_class,
            seed=self.cfg.seed,
        )

    def _modes(self, samples: torch.Tensor) -> dict[str, float]:
        if self.data.name in MIXTURES:
            stats = mode_stats(samples, MIXTURES[self.data.name])
            return {"modes": stats.modes_covered, "high_quality": stats.high_quality, "modes_kl": stats.reverse_kl}
        # Each channel of a Stacked MNIST sample is an MNIST digit, whatever extractor the other metrics use.
        digits = load_classifier("mnist", self.extractor.device)
        found = stacked_mnist_modes(samples, digits.predict)
        return {"modes": found["modes"], "modes_kl": found["kl"]}


def check_metrics(metrics: tuple[str, ...], data_name: str, features: str) -> None:
    """Reject metric choices that cannot apply, naming the field and what would work."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ConfigError(f"eval.metrics: unknown metric {', '.join(unknown)}; choose from {', '.join(METRICS)}")
    if "modes" in metrics and data_name not in (*MIXTURES, "stacked-mnist"):
        raise ConfigError(
            f"eval.metrics: 'modes' counts modes of stacked-mnist, {', '.join(MIXTURES)}; not of '{data_name}'"
        )
    no_classes = features == "raw" or (features == "auto" and data_name in MIXTURES)
    if "is" in metrics and no_classes:
        raise ConfigError("eval.metrics: 'is' needs a classifier's probabilities; raw features have none")


def evaluate_recipe(evaluator: Evaluator, recipe: Recipe) -> tuple[EvalResult, torch.Tensor]:
    """Score ``evaluator.cfg.n`` samples of a recipe's generator from the fixed latent seed ``eval.seed``.

    A conditional generator draws balanced classes, which the classwise metric compares with the classifier's
    verdicts; the probe reads an unconditional discriminator (a conditional one needs labels it cannot be given).
    Returns the result and the samples (for figures).
    """
    n = evaluator.cfg.n
    labels = recipe.default_labels(n)
    samples = recipe.sample(n, generator=torch.Generator().manual_seed(evaluator.cfg.seed), labels=labels)
    discriminator = recipe.networks.get("discriminator") if recipe.num_classes is None else None
    return evaluator.evaluate(samples, discriminator=discriminator, labels=labels), samples
