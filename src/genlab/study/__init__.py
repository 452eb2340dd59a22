"""Studies: many models x hyper-parameter samples x seeds under one budget, each trial an ordinary run folder.

    import genlab.study
    genlab.study.run("configs/studies/modes-2d.yaml", "studies/modes", jobs=2)
    table = genlab.study.load("studies/modes")        # one row per trial, a pandas DataFrame
    genlab.study.report("studies/modes")              # studies/modes/study.html (run writes it too)

The study file (:mod:`genlab.study.spec`), the search space (:mod:`genlab.study.space`), trial ids and the index
(:mod:`genlab.study.trials`), one trial (:mod:`genlab.study.execute`), the backends (:mod:`genlab.study.backend`,
:mod:`genlab.study.local`, :mod:`genlab.study.ray_tune`), the two phases (:mod:`genlab.study.runner`) and the study
page (:mod:`genlab.study.report`, its statistics in :mod:`genlab.study.analysis`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from genlab.study.report import write_study_report
from genlab.study.runner import run
from genlab.study.trials import study_rows

if TYPE_CHECKING:
    import pandas

__all__ = ["load", "report", "run"]


def load(folder: str | Path) -> pandas.DataFrame:
    """The index of a study folder as a DataFrame, one row per trial: the index's columns, with the sampled values
    and the last evaluation's metrics spread into columns ``values/KEY`` and ``metrics/NAME``."""
    import pandas

    return pandas.json_normalize(study_rows(folder), sep="/", max_level=1)


def report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the study page DIR/study.html (or ``out``): best settings, spread over seeds, best metric against
    budget, precision against recall, failed trials; returns its path."""
    return write_study_report(folder, out)
