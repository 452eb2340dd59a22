"""The evaluation suite behind ``genlab eval`` and periodic evaluation during training.

An :class:`Evaluator` holds one feature extractor and the cached features of the real reference set; it scores a
batch of generated samples (or the samples a sampling callable draws) with the metrics named in ``eval.metrics``
(the registry of :mod:`genlab.metrics.base`) and records where each number came from (extractor, weights digest,
preprocessing, sample counts, real split), because a FID without its provenance cannot be compared with anything.

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

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from genlab.data import DataConfig, open_dataset
from genlab.errors import ConfigError
from genlab.metrics.base import METRICS, EvalConfig, Metric, MetricInputs
from genlab.metrics.features import FeatureExtractor, make_extractor
from genlab.metrics.memorisation import ClosestPairs, closest_pairs
from genlab.metrics.nearest import nearest_neighbours
from genlab.metrics.reference import Reference, real_subset, reference_features

Sample = Callable[..., torch.Tensor]
"""``sample(n, *, generator, labels)``: ``n`` generated samples from a CPU ``generator``'s latents (the signature
of a recipe's ``sample``)."""


@dataclass
class EvalResult:
    values: dict[str, float]
    provenance: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The result for a JSON file: NaN and inf values (no value, e.g. an error bar that cannot be computed)
        become null, so the file stays valid JSON."""
        values = {k: v if math.isfinite(v) else None for k, v in self.values.items()}
        return {"metrics": values, "provenance": self.provenance}

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
        chosen_metrics(cfg.metrics, data.name, cfg.features)
        self.extractor: FeatureExtractor = make_extractor(
            cfg.features, data.name, inception_weights=cfg.inception_weights, device=device, data_path=data.path
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
        chosen = chosen_metrics(metrics or self.cfg.metrics, self.data.name, self.cfg.features)
        inputs = MetricInputs(samples, self.cfg, self.data, labels, discriminator, self.extractor, self.reference)
        values: dict[str, float] = {}
        for metric in chosen.values():
            values.update(metric(inputs))
        provenance: dict[str, object] = {"n_fake": len(samples)}
        notes = []
        if any(metric.in_feature_space for metric in chosen.values()):
            real = inputs.real
            n_real = len(real.extracted.features)
            provenance |= {**self.extractor.provenance(), "real": real.description, "n_real": n_real}
            small = min(len(samples), n_real)
            biased = [m for m in chosen.values() if m.biased_below is not None and small < m.biased_below]
            if biased:
                names = "/".join(m.label for m in biased)
                notes.append(
                    f"{names} from {small} < {biased[0].biased_below} samples: biased, compare only with values at "
                    "the same n"
                )
        notes += [note for metric in chosen.values() if (note := metric.note(values))]
        if notes:
            provenance["note"] = "; ".join(notes)
        return EvalResult(values, provenance)

    def evaluate_generator(
        self,
        sample: Sample,
        labels: torch.Tensor | None = None,
        discriminator: torch.nn.Module | None = None,
    ) -> tuple[EvalResult, torch.Tensor]:
        """Score ``eval.n`` samples that ``sample`` draws from the fixed latent seed ``eval.seed`` (conditional
        generators: of the requested ``labels``, one per sample); returns the result and the samples."""
        generator = torch.Generator().manual_seed(self.cfg.seed)
        samples = sample(self.cfg.n, generator=generator, labels=labels)
        return self.evaluate(samples, discriminator=discriminator, labels=labels), samples

    def closest_pairs(self, samples: torch.Tensor, k: int = 8) -> tuple[ClosestPairs, torch.Tensor]:
        """The ``k`` generated samples nearest to the real reference set (in the extractor's feature space) and
        the real reference images the pairs index into."""
        distances, indices = nearest_neighbours(self.extractor(samples).features, self.reference().extracted.features)
        real_images, _ = real_subset(open_dataset(self.data)[0], self.cfg.n)
        return closest_pairs(distances, indices, k), real_images


def chosen_metrics(names: tuple[str, ...], data_name: str, features: str) -> dict[str, Metric]:
    """The registered metrics of ``names``, each checked to apply to the data and feature space."""
    chosen = {}
    for name in names:
        if name not in METRICS:
            raise ConfigError(f"eval.metrics: {METRICS.unknown_message(name)}")
        metric = METRICS.get(name)()
        metric.check(data_name, features)
        chosen[name] = metric
    return chosen
