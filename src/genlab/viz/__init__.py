"""Pictures of runs: training curves (sample grids are written by genlab.images)."""

from genlab.viz.curves import plot_curves

__all__ = ["plot_curves"]
