"""Sample-quality measures on images or features (the full evaluation suite builds on these)."""

from genlab.metrics.nearest import nearest_distance, nearest_neighbour_scores

__all__ = ["nearest_distance", "nearest_neighbour_scores"]
