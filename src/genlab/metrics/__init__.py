"""Sample-quality measures on images or features (the full evaluation suite builds on these)."""

from genlab.metrics.modes import MODE_SAMPLES, ModeStats, mode_stats
from genlab.metrics.nearest import nearest_distance, nearest_neighbour_scores

__all__ = ["MODE_SAMPLES", "ModeStats", "mode_stats", "nearest_distance", "nearest_neighbour_scores"]
