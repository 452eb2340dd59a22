"""Pictures of runs: training curves and sample pictures (image grids, scatter plots of 2-D points)."""

from genlab.viz.curves import plot_curves
from genlab.viz.samples import render_samples

__all__ = ["plot_curves", "render_samples"]
