"""Measurable attributes of generated images, to group latent vectors and to judge latent directions.

Each attribute maps images (N, C, H, W) in [-1, 1] to one number per image:

* ``ink``: the mean brightness, i.e. how much stroke a digit has (thick versus thin writing);
* ``slant``: the shear of the bright pixels, from their second moments (positive: the top leans right);
* ``p<K>`` (``p7``): the classifier's probability of class K.

Attributes that need a classifier get it from :func:`attribute_functions`; they are the hooks for labels on
samples that carry none (a generator's output), as attribute directions need.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from genlab.errors import GenlabError
from genlab.metrics.features import DomainClassifier

Attribute = Callable[[torch.Tensor], torch.Tensor]
PIXEL_ATTRIBUTES = ("ink", "slant")


def ink(images: torch.Tensor) -> torch.Tensor:
    """Mean brightness in [0, 1] of each image."""
    return ((images + 1) / 2).flatten(1).mean(dim=1)


def slant(images: torch.Tensor) -> torch.Tensor:
    """−cov(x, y) / var(y) of each image's brightness distribution (y points down, so a top leaning right is > 0)."""
    weight = ((images + 1) / 2).sum(dim=1)  # (N, H, W)
    h, w = weight.shape[-2:]
    ys = torch.arange(h, dtype=weight.dtype, device=weight.device).view(1, h, 1)
    xs = torch.arange(w, dtype=weight.dtype, device=weight.device).view(1, 1, w)
    total = weight.sum(dim=(1, 2)).clamp_min(1e-8)
    mean_y = (weight * ys).sum(dim=(1, 2)) / total
    mean_x = (weight * xs).sum(dim=(1, 2)) / total
    dy, dx = ys - mean_y.view(-1, 1, 1), xs - mean_x.view(-1, 1, 1)
    cov_xy = (weight * dx * dy).sum(dim=(1, 2)) / total
    var_y = (weight * dy**2).sum(dim=(1, 2)) / total
    return -cov_xy / var_y.clamp_min(1e-8)


def class_probability(classifier: DomainClassifier, k: int) -> Attribute:
    def probability(images: torch.Tensor) -> torch.Tensor:
        return classifier.logits(images).softmax(dim=1)[:, k]

    return probability


def attribute_functions(
    names: list[str] | tuple[str, ...], classifier: DomainClassifier | None
) -> dict[str, Attribute]:
    """The named attributes; class probabilities (``p0`` ... ``p9``) need ``classifier``."""
    functions: dict[str, Attribute] = {}
    for name in names:
        if name in PIXEL_ATTRIBUTES:
            functions[name] = ink if name == "ink" else slant
        elif name.startswith("p") and name[1:].isdigit():
            if classifier is None:
                raise GenlabError(f"attribute '{name}' needs a classifier (--classifier FILE, or a data set with one)")
            k = int(name[1:])
            if k >= classifier.net.num_classes:
                raise GenlabError(f"attribute '{name}': the classifier has classes 0..{classifier.net.num_classes - 1}")
            functions[name] = class_probability(classifier, k)
        else:
            raise GenlabError(f"unknown attribute '{name}'; use ink, slant or p<class> such as p7")
    return functions
