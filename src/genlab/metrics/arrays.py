"""Input checks shared by the metric functions: they accept numpy arrays or tensors and compute in float64."""

from __future__ import annotations

import numpy as np
import torch

Array = np.ndarray | torch.Tensor


def to_numpy(x: Array | float, name: str) -> np.ndarray:
    """``x`` as a float64 numpy array, refusing NaN and inf (which would silently poison every metric)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    a = np.asarray(x, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf values; check the feature extractor's input")
    return a


def feature_tensor(x: Array, name: str, *, min_rows: int = 1, device: torch.device | None = None) -> torch.Tensor:
    """``x`` as a float64 tensor of shape (N, D), N >= ``min_rows``, on ``device`` (default: where it is)."""
    t = torch.as_tensor(x).detach()
    t = t.to(device=device if device is not None else t.device, dtype=torch.float64)
    if t.ndim != 2 or t.shape[1] < 1:
        raise ValueError(
            f"{name} must be a feature matrix of shape (N, D), got shape {tuple(t.shape)}; "
            "flatten each sample to one row (x.reshape(len(x), -1))"
        )
    if t.shape[0] < min_rows:
        raise ValueError(f"{name} has {t.shape[0]} sample(s); this metric needs at least {min_rows}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf values; check the feature extractor's input")
    return t
