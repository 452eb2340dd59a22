"""GAN objectives: one module per objective, each registering itself in :data:`OBJECTIVES`."""

from genlab.objectives.base import OBJECTIVES, Objective
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["OBJECTIVES", "Objective"]
