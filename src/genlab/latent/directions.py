"""Latent directions for an attribute, and how entangled they are with other attributes.

A direction d for an attribute comes from latent vectors labelled with and without it: the difference of the two
group means, or the unit normal of a linear classifier separating them in z. Moving z by s·d should
change the attribute and nothing else; in practice z is entangled (changing one feature changes others),
and :func:`entanglement` measures by how much.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from genlab.latent.attributes import Attribute

Method = Literal["mean", "linear"]


def direction_from_labels(z: torch.Tensor, has_attribute: torch.Tensor, method: Method = "mean") -> torch.Tensor:
    """Unit vector (d,) pointing from latents without the attribute towards latents with it."""
    positive = torch.as_tensor(has_attribute, dtype=torch.bool, device=z.device)
    if positive.all() or not positive.any():
        raise ValueError("a direction needs latent vectors both with and without the attribute")
    if method == "mean":
        direction = z[positive].mean(dim=0) - z[~positive].mean(dim=0)
    elif method == "linear":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=2000).fit(z.detach().cpu().numpy(), positive.cpu().numpy())
        direction = torch.as_tensor(model.coef_[0], dtype=z.dtype, device=z.device)
    else:
        raise ValueError(f"method must be 'mean' or 'linear', got {method!r}")
    return direction / direction.norm()


def move(z: torch.Tensor, direction: torch.Tensor, strengths: Sequence[float]) -> torch.Tensor:
    """``z + s · direction`` for every strength s: shape (S, N, d)."""
    s = torch.as_tensor(list(strengths), dtype=z.dtype, device=z.device).view(-1, 1, 1)
    return z.unsqueeze(0) + s * direction


@dataclass
class Entanglement:
    strengths: list[float]
    changes: dict[str, list[float]]
    """Per attribute and strength: mean |a(G(z + s d)) − a(G(z))| in units of the attribute's std over the samples."""
    target: str

    @property
    def score(self) -> float:
        """Mean change of the other attributes over the change of the target, at the strongest move.

        0: the direction changes only its target; 1: the others change as much as the target does.
        """
        strongest = int(np.argmax(np.abs(self.strengths)))
        target = self.changes[self.target][strongest]
        others = [v[strongest] for k, v in self.changes.items() if k != self.target]
        return float(np.mean(others) / target) if others and target > 0 else float("nan")

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "strengths": self.strengths, "changes": self.changes, "score": self.score}


@torch.no_grad()
def entanglement(
    decode: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    direction: torch.Tensor,
    attributes: dict[str, Attribute],
    target: str,
    strengths: Sequence[float] = (-2, -1, 1, 2),
) -> Entanglement:
    """How much each attribute changes when ``z`` moves along ``direction``; ``target`` is the one it is meant for."""
    if target not in attributes:
        raise ValueError(f"target attribute '{target}' is not among the measured ones: {', '.join(attributes)}")
    base_images = decode(z)
    base = {name: fn(base_images) for name, fn in attributes.items()}
    scale = {name: values.std().clamp_min(1e-8) for name, values in base.items()}
    changes: dict[str, list[float]] = {name: [] for name in attributes}
    for moved in move(z, direction, strengths):
        images = decode(moved)
        for name, fn in attributes.items():
            changes[name].append(float(((fn(images) - base[name]).abs() / scale[name]).mean()))
    return Entanglement([float(s) for s in strengths], changes, target)
