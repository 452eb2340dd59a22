"""Network architectures (plain modules, no training logic), chosen by ``arch`` in configs."""

from genlab.nets.base import NETS, NetSpec
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["NETS", "NetSpec"]
