"""Linear probe on discriminator features: does the discriminator learn features useful for classification?

DCGAN (Radford et al. 2015) reuses a trained discriminator's features for supervised tasks and reports good
accuracy from few labels. The probe here measures that: take the input of the discriminator's final layer (the
features its score is a linear function of), fit a logistic regression on a few labelled examples per class, and
report the accuracy on a held-out split. Compare against the same probe on an untrained discriminator (or raw
pixels): the difference is what adversarial training taught the network.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from genlab.data import load_dataset
from genlab.errors import ConfigError
from genlab.metrics.arrays import Array, to_numpy
from genlab.metrics.base import METRICS, Metric, MetricInputs
from genlab.metrics.reference import real_subset
from genlab.nets.base import last_layer

PROBE_MAX_ITER = 5000
"""L-BFGS iterations for the logistic regression; standardised features converge far sooner, this is a safe cap."""


def discriminator_features(discriminator: nn.Module, images: Array, batch_size: int = 500) -> torch.Tensor:
    """Features (N, F) of ``images`` (N, ...): the flattened input of the discriminator's last conv or linear layer.

    The layer is the last ``nn.Conv2d`` or ``nn.Linear`` found by iterating ``discriminator.modules()`` (registration
    order), which for genlab's networks is the output layer: for a DCGAN discriminator its input is the last
    (C, 4, 4) feature map, for an MLP the last hidden layer. A forward pre-hook captures it, so the network needs no
    feature method of its own. The network runs in eval mode (BatchNorm uses its running statistics, spectral norm
    does no power iteration, so no buffer changes) without gradients, in batches of ``batch_size`` on the device of
    its parameters; every module's train/eval flag is restored afterwards. Returns float32 features on the CPU.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    layer = last_layer(discriminator)
    parameter = next(discriminator.parameters())
    inputs = torch.as_tensor(images).detach()
    if len(inputs) == 0:
        raise ValueError("images is empty; pass at least one image")
    captured: list[torch.Tensor] = []
    # A copy, not a view: a network may change the tensor in place after its last layer has read it.
    hook = layer.register_forward_pre_hook(lambda _module, args: captured.append(args[0].detach().flatten(1).clone()))
    modes = {module: module.training for module in discriminator.modules()}
    features = []
    try:
        discriminator.eval()
        with torch.no_grad():
            for batch in inputs.split(batch_size):
                captured.clear()
                discriminator(batch.to(parameter.device, parameter.dtype))
                if len(captured) != 1:
                    raise ValueError(
                        f"the last layer ({type(layer).__name__}) ran {len(captured)} times in one forward pass; "
                        "its input is not a well-defined feature vector for this network"
                    )
                features.append(captured[0].float().cpu())
    finally:
        hook.remove()
        for module, training in modes.items():
            module.train(training)
    return torch.cat(features)


def labels_array(labels: Array, n: int, name: str) -> np.ndarray:
    """``labels`` as an int64 vector of length ``n``, refusing fractions and wrong lengths."""
    values = to_numpy(labels, name)
    if values.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per feature row, got {values.shape}")
    if not np.array_equal(values, np.round(values)) or (values < 0).any():
        raise ValueError(f"{name} must hold non-negative integer class labels")
    return values.astype(np.int64)


def select_per_class(labels: Array, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` randomly chosen examples of every class in ``labels`` (sorted by class, then index).

    The choice is a seeded random permutation of all rows, of which the first ``per_class`` of each class are kept:
    vectorised, and reproducible for a given seed. A class with fewer examples raises ``ValueError``.
    """
    values = labels_array(labels, len(labels), "labels")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    classes, counts = np.unique(values, return_counts=True)
    if (counts < per_class).any():
        short = ", ".join(f"class {c}: {k}" for c, k in zip(classes, counts, strict=True) if k < per_class)
        raise ValueError(
            f"per_class={per_class} labelled examples are needed of every class, but some have fewer ({short}); "
            "lower per_class or use a larger training split"
        )
    shuffled = np.random.default_rng(seed).permutation(len(values))
    order = shuffled[np.argsort(values[shuffled], kind="stable")]  # grouped by class, random within a class
    starts = np.searchsorted(values[order], classes)
    rank = np.arange(len(order)) - np.repeat(starts, counts)  # position of each row within its class group
    chosen = order[rank < per_class]
    return chosen[np.lexsort((chosen, values[chosen]))]


def linear_probe(
    train_features: Array,
    train_labels: Array,
    test_features: Array,
    test_labels: Array,
    per_class: int,
    seed: int = 0,
) -> float:
    """Test accuracy of a logistic regression fitted on ``per_class`` labelled training examples of every class.

    The examples are chosen by :func:`select_per_class` with ``seed``. Features are standardised with the mean and
    standard deviation of the chosen examples (all a semi-supervised learner would have), then scikit-learn's
    ``LogisticRegression`` (L2, C = 1, multinomial) is fitted. Chance level is 1 / number of classes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train, test = to_numpy(train_features, "train_features"), to_numpy(test_features, "test_features")
    if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1] or len(test) == 0:
        raise ValueError(
            "train_features and test_features must be (N, D) feature matrices with the same D and at least one test "
            f"row, got shapes {train.shape} and {test.shape}"
        )
    y_train = labels_array(train_labels, len(train), "train_labels")
    y_test = labels_array(test_labels, len(test), "test_labels")
    chosen = select_per_class(y_train, per_class, seed)
    if len(np.unique(y_train)) < 2:
        raise ValueError("train_labels hold a single class; a probe needs at least two")
    scaler = StandardScaler().fit(train[chosen])
    model = LogisticRegression(max_iter=PROBE_MAX_ITER).fit(scaler.transform(train[chosen]), y_train[chosen])
    return float((model.predict(scaler.transform(test)) == y_test).mean())


@METRICS.register("probe")
class Probe(Metric):
    """Accuracy on the test split of a linear classifier on the discriminator's features, trained on
    ``eval.probe_per_class`` labelled images per class of the reference subset (higher is better)."""

    in_feature_space = False

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        if inputs.discriminator is None:
            raise ConfigError("eval.metrics: 'probe' needs the run's discriminator; use it on unconditional GAN runs")
        train = load_dataset(inputs.data.model_copy(update={"split": "train"}))
        test = load_dataset(inputs.data.model_copy(update={"split": "test"}))
        if train.labels is None or test.labels is None:
            raise ConfigError(f"eval.metrics: 'probe' needs labelled data; '{inputs.data.name}' has no labels")
        train_images, train_labels = real_subset(train, inputs.cfg.n)
        accuracy = linear_probe(
            discriminator_features(inputs.discriminator, train_images),
            train_labels,
            discriminator_features(inputs.discriminator, test.images),
            test.labels,
            inputs.cfg.probe_per_class,
            seed=inputs.cfg.seed,
        )
        return {"probe_accuracy": accuracy}
