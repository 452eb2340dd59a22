"""Studies: many models x hyper-parameter samples x seeds under one budget, each trial an ordinary run folder.

    import genlab.study
    genlab.study.run("configs/studies/modes-2d.yaml", "studies/modes", jobs=2)
    table = genlab.study.load("studies/modes")        # one row per trial, a pandas DataFrame

The study file (:mod:`genlab.study.spec`), the search space (:mod:`genlab.study.space`), trial ids and the index
(:mod:`genlab.study.trials`), one trial (:mod:`genlab.study.execute`), the backends (:mod:`genlab.study.backend`,
:mod:`genlab.study.local`, :mod:`genlab.study.ray_tune`) and the two phases (:mod:`genlab.study.runner`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from genlab.errors import GenlabError
from genlab.study.runner import run
from genlab.study.trials import INDEX, read_index

if TYPE_CHECKING:
    import pandas

__all__ = ["load", "run"]


def load(folder: str | Path) -> pandas.DataFrame:
    """The index of a study folder as a DataFrame, one row per trial: the index's columns, with the sampled values
    and the last evaluation's metrics spread into columns ``values/KEY`` and ``metrics/NAME``."""
    import pandas

    rows = read_index(Path(folder) / INDEX)
    if not rows:
        raise GenlabError(f"{folder} holds no study index ({INDEX}); run `genlab study run STUDY.yaml --out {folder}`")
    return pandas.json_normalize(rows, sep="/", max_level=1)
