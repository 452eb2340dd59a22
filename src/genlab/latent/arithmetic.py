"""Vector arithmetic on z (DCGAN, Radford et al. 2015): mean(a) − mean(b) + mean(c).

Groups of latent vectors come from labelled samples: the generator's output is labelled by a classifier and by
measured attributes (:mod:`genlab.latent.attributes`), and a query such as ``class=7,ink=high`` picks the
samples of class 7 whose ink is in the top quarter among the 7s. Averaging a few vectors per group removes what
is particular to one sample and keeps what the group shares, so "thick 7s − thin 7s + thin 1s" should decode to
thick 1s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genlab.errors import GenlabError
from genlab.latent.attributes import Attribute

QUARTILE = 0.25
"""``high`` / ``low`` select the top / bottom quarter of an attribute within the query's other filters."""


@dataclass
class LabelledLatents:
    """Latent vectors with the class and attributes of what the generator made of them."""

    z: torch.Tensor
    classes: torch.Tensor
    """The classifier's verdict, or the requested class for a conditional generator."""
    attributes: dict[str, torch.Tensor]
    requested: torch.Tensor | None = None
    """Labels a conditional generator was given (None for unconditional ones)."""

    def select(self, query: str) -> torch.Tensor:
        """Boolean mask of the samples matching ``query``: comma-separated ``class=K``, ``NAME=high|low``."""
        mask = torch.ones(len(self.z), dtype=torch.bool, device=self.z.device)
        filters = [part.strip().partition("=") for part in query.split(",") if part.strip()]
        if not filters or any(not sep for _, sep, _ in filters):
            raise GenlabError(f"query '{query}' must look like class=7,ink=high (comma-separated key=value)")
        for key, _, value in sorted(filters, key=lambda f: f[0] != "class"):  # class first, then quantiles in it
            if key == "class":
                if not value.isdigit():
                    raise GenlabError(f"query '{query}': class must be a class number, got '{value}'")
                mask &= self.classes == int(value)
            elif key in self.attributes:
                if value not in ("high", "low") or not mask.any():
                    raise GenlabError(f"query '{query}': {key} takes high or low, after filters that match samples")
                values = self.attributes[key]
                q = torch.quantile(values[mask], 1 - QUARTILE if value == "high" else QUARTILE)
                mask &= values >= q if value == "high" else values <= q
            else:
                known = ", ".join(["class", *self.attributes])
                raise GenlabError(f"query '{query}': unknown key '{key}' (known: {known})")
        if not mask.any():
            raise GenlabError(f"no sample matches '{query}'; draw more samples (--n) or loosen the query")
        return mask


def label_latents(
    z: torch.Tensor,
    images: torch.Tensor,
    classes: torch.Tensor,
    attributes: dict[str, Attribute],
    requested: torch.Tensor | None = None,
) -> LabelledLatents:
    """Latents labelled with ``classes`` and the ``attributes`` measured on their ``images``."""
    with torch.no_grad():
        measured = {name: fn(images).to(z.device) for name, fn in attributes.items()}
    return LabelledLatents(z, classes, measured, requested)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean(a) − mean(b) + mean(c) of three groups of latent vectors (each (n_i, d))."""
    for name, group in (("a", a), ("b", b), ("c", c)):
        if group.ndim != 2 or len(group) == 0:
            raise ValueError(f"group {name} must be a non-empty (n, d) batch of latent vectors")
    return a.mean(dim=0) - b.mean(dim=0) + c.mean(dim=0)


def pixel_arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """The same operation on three groups of images (n_i, C, H, W) in [-1, 1]: one image (1, C, H, W), clipped to
    [-1, 1]. The baseline of seed 002: averaging and subtracting pixels overlays strokes, where the generator
    applied to z-arithmetic draws one new digit."""
    shapes = {tuple(group.shape[1:]) for group in (a, b, c)}
    if len(shapes) != 1 or a.ndim != 4:
        raise ValueError(f"pixel arithmetic needs three batches of images of one shape, got shapes {sorted(shapes)}")
    flat = arithmetic(a.flatten(1), b.flatten(1), c.flatten(1))
    return flat.view(1, *a.shape[1:]).clamp(-1, 1)
