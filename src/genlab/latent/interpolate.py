"""Walking the latent space: linear and spherical interpolation between two or more latent points.

Smooth transitions along such a walk are a sign that the generator has learned a continuous space rather than
memorised its training images. A high-dimensional Gaussian puts almost all of its mass near the sphere
of radius √d, and a straight line between two samples cuts through the interior, where the norm dips to about
√(d/2) half way and G rarely saw its inputs; the seed's advice is therefore to follow a great circle (slerp).
"""

from __future__ import annotations

import itertools
from typing import Literal

import torch

Mode = Literal["slerp", "lerp"]
PARALLEL_COS = 1 - 1e-7
"""Directions closer than this are treated as parallel: slerp reduces to lerp there."""


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 - t) a + t b for every t: shape (T, *a.shape)."""
    t = t.to(a.dtype).reshape(-1, *([1] * a.ndim))
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Great-circle interpolation of the directions of ``a`` and ``b`` (last axis), their norms interpolated linearly.

    Shape (T, *a.shape). The result is a weighted sum w_a a + w_b b whose weights are exactly (1, 0) at t = 0 and
    (0, 1) at t = 1, so the path hits both end points exactly; its norm moves linearly from ‖a‖ to ‖b‖, with no dip.
    """
    t = t.to(a.dtype).reshape(-1, *([1] * a.ndim))
    norm_a, norm_b = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    cos = ((a / norm_a) * (b / norm_b)).sum(dim=-1, keepdim=True).clamp(-1, 1)
    omega = torch.arccos(cos)
    parallel = cos > PARALLEL_COS
    sin_omega = torch.where(parallel, torch.ones_like(omega), torch.sin(omega))
    along_a = torch.where(parallel, 1 - t, torch.sin((1 - t) * omega) / sin_omega)
    along_b = torch.where(parallel, t, torch.sin(t * omega) / sin_omega)
    norm = (1 - t) * norm_a + t * norm_b
    if parallel.any():  # a plain lerp of the unit directions is shorter than 1: renormalise it
        unit = along_a * a / norm_a + along_b * b / norm_b
        scale = torch.where(parallel, 1 / unit.norm(dim=-1, keepdim=True), torch.ones_like(norm))
        along_a, along_b = along_a * scale, along_b * scale
    return (norm / norm_a * along_a) * a + (norm / norm_b * along_b) * b


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, mode: Mode = "slerp") -> torch.Tensor:
    """``steps`` points from ``a`` to ``b`` inclusive (shape (steps, *a.shape)) by ``mode``."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two end points), got {steps}")
    if mode not in ("slerp", "lerp"):
        raise ValueError(f"mode must be 'slerp' or 'lerp', got {mode!r}")
    t = torch.linspace(0, 1, steps, device=a.device)
    return (slerp if mode == "slerp" else lerp)(a, b, t)


def latent_path(points: torch.Tensor, steps: int, mode: Mode = "slerp") -> torch.Tensor:
    """A walk through ``points`` (P, d) in order, ``steps`` points per leg: (P - 1) * (steps - 1) + 1 rows."""
    if len(points) < 2:
        raise ValueError(f"a path needs at least two points, got {len(points)}")
    legs = [interpolate(a, b, steps, mode) for a, b in itertools.pairwise(points)]
    return torch.cat([legs[0], *(leg[1:] for leg in legs[1:])])
