"""Perceptual loss: compare images by what a fixed feature network sees in them, not pixel by pixel.

    l(y_hat, y) = ||phi_j(y_hat) - phi_j(y)||^2 / (C_j H_j W_j)

phi_j is the activation map (C_j x H_j x W_j) of layer j of the feature network, here a genlab domain classifier
(the evaluation suite's shipped ``mnist`` or ``digits`` classifier, or a classifier file of the user's). A blur or a
one-pixel shift that costs a lot of squared error but keeps the strokes costs little here; a changed stroke costs
a lot. The network is frozen; gradients flow to the images only.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.metrics.features import load_classifier, suite_classifier
from genlab.models.base import RunDefaults
from genlab.schema import Section

DEFAULT_LAYER = 12
"""Index in the classifier's body of the ReLU that ends its second stage (2 x width channels at half size)."""


class PerceptualConfig(Section):
    network: str | None = None
    """The feature network: a shipped classifier's name (mnist, digits) or a classifier file. Unset: the classifier
    of the run's evaluation suite (with eval.features: auto, the data set's shipped one), filled in when the
    config loads so config.yaml records it."""
    layer: int = DEFAULT_LAYER
    """Index of the layer in the classifier's body whose activations are compared (0-19: conv, BatchNorm, ReLU
    triples of six blocks with max-pooling at 6 and 13; the default 12 ends the second stage)."""

    def for_run(self, data_name: str, eval_features: str) -> PerceptualConfig:
        """These settings with an unset network taken from the run's evaluation suite, when it uses a classifier."""
        network = self.network or suite_classifier(eval_features, data_name)
        return self if network == self.network else self.model_copy(update={"network": network})

    def build(self, device: torch.device) -> PerceptualLoss:
        if self.network is None:
            raise ConfigError(
                "perceptual.network is not set and the evaluation suite uses no classifier for this data: name the "
                "feature network, a shipped classifier (mnist, digits) or a classifier file from "
                "`genlab classifier train`"
            )
        return PerceptualLoss(self.network, self.layer, device)


class PerceptualLossOption:
    """For model configs whose ``loss`` may be ``perceptual``, with its settings in ``perceptual``: the network
    left unset comes from the run's evaluation suite."""

    def with_run_defaults(self, run: RunDefaults) -> Any:
        if self.loss != "perceptual":
            return self
        filled = self.perceptual.for_run(run.data.name, run.eval_features)
        return self if filled is self.perceptual else self.model_copy(update={"perceptual": filled})


class PerceptualLoss(nn.Module):
    def __init__(self, network: str, layer: int, device: torch.device):
        super().__init__()
        self.classifier = load_classifier(network, device)
        body = self.classifier.net.body
        if not 0 <= layer < len(body) - 2:  # the last two are global pooling and flattening: no map left
            raise ConfigError(f"perceptual.layer must be in 0..{len(body) - 3} for this classifier (got {layer})")
        self.trunk = body[: layer + 1]

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.trunk(self.classifier.prepare(images))

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the per-image loss; ``target``'s features are constants."""
        with torch.no_grad():
            wanted = self.features(target)
        got = self.features(output)
        return (got - wanted).square().flatten(1).mean(1).mean()  # the mean over C_j H_j W_j is the 1/(CHW) sum
