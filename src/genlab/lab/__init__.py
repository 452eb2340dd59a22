"""The toy lab: the lecture notes' worked examples as one-line experiments (``genlab lab NAME --out DIR``)."""

from genlab.lab.base import LABS, LabResult, run_lab
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["LABS", "LabResult", "run_lab"]
