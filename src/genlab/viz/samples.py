"""One picture of a batch of generated samples: a grid for images, a scatter plot for 2-D points.

The trainer writes the same picture as a PNG and to the train.loggers backends (TensorBoard, W&B, MLflow), whatever
kind of data the run trains on.
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.images import enlarged_grid

SCATTER_INCHES, SCATTER_DPI = 4, 100
"""A scatter plot is 400 x 400 pixels."""
MARGIN = 0.1
"""Space around the reference points, as a fraction of their half-extent."""
GENERATED_COLOUR = "#1f4e9c"
REFERENCE_COLOUR = "#c8c8c8"


def render_samples(samples: torch.Tensor, reference: torch.Tensor | None = None, nrow: int | None = None) -> np.ndarray:
    """Turn samples into an (H, W, C) uint8 picture.

    Images (N, C, H, W) in [-1, 1] become a grid (``nrow`` images per row, default as square as possible), enlarged
    by ``64 // width`` so tiny images stay visible. Points (N, 2) become a scatter plot over the light grey
    ``reference`` points (real data, optional). The axes span a square around ``reference`` (else around the
    samples), so passing the same reference every time makes the frames of a run comparable; the plot fills the
    picture, with no ticks, so a point's pixel follows from the limits.
    """
    if samples.ndim == 4:
        return enlarged_grid(samples, nrow)
    if samples.ndim == 2 and samples.shape[1] == 2:
        return _scatter(_points(samples), None if reference is None else _points(reference))
    raise ValueError(f"can draw images (N, C, H, W) or 2-D points (N, 2), not samples of shape {tuple(samples.shape)}")


def _points(values: torch.Tensor) -> np.ndarray:
    return values.detach().to("cpu", torch.float64).numpy()


def _scatter(points: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frame = points if reference is None else reference
    frame = frame[np.isfinite(frame).all(axis=1)]
    low, high = (frame.min(axis=0), frame.max(axis=0)) if len(frame) else (np.full(2, -1.0), np.full(2, 1.0))
    centre, half = (low + high) / 2, float((high - low).max()) / 2 * (1 + MARGIN)
    half = half if half > 0 else 1.0
    fig = Figure(figsize=(SCATTER_INCHES, SCATTER_INCHES), dpi=SCATTER_DPI, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    if reference is not None:
        ax.scatter(reference[:, 0], reference[:, 1], s=2, c=REFERENCE_COLOUR, linewidths=0)
    ax.scatter(points[:, 0], points[:, 1], s=8, c=GENERATED_COLOUR, alpha=0.6, linewidths=0)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
