"""Drawing the settings of a search space: the grid keys crossed, the other keys drawn at random.

The draws come from ``random.Random`` seeded with the study seed and the model's name (a string seed is hashed
with SHA-512, the same in every process and on every machine), so a study file gives the same settings on every
run and every backend. Keys are drawn in sorted order, so the order of the file does not matter either.

    choice [a, b, ...]     one of the values, each with probability 1/n
    uniform [lo, hi]       lo + (hi - lo) u,               u ~ U(0, 1)
    loguniform [lo, hi]    exp(log lo + (log hi - log lo) u): uniform in log space (each decade as likely)
    int [lo, hi]           an integer in lo..hi, both ends included
    grid [a, b, ...]       every value: the settings are the cartesian product of the grid keys, each with
                           ``samples`` draws of the other keys
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

from genlab.study.spec import Dimension


def model_rng(study_seed: int, model: str) -> random.Random:
    return random.Random(f"genlab-study:{study_seed}:{model}")


def draw(dimension: Dimension, rng: random.Random) -> Any:
    """One value of a non-grid dimension."""
    values = dimension.values
    if dimension.kind == "choice":
        return values[rng.randrange(len(values))]
    if dimension.kind == "uniform":
        return rng.uniform(*values)
    if dimension.kind == "loguniform":
        return math.exp(rng.uniform(math.log(values[0]), math.log(values[1])))
    if dimension.kind == "int":
        return rng.randint(*values)
    raise ValueError(f"grid dimensions are crossed, not drawn (got {dimension.kind})")


def settings(space: dict[str, Dimension], samples: int, rng: random.Random) -> list[dict[str, Any]]:
    """The settings to try: for every point of the grid keys' product, ``samples`` draws of the other keys
    (one setting per grid point when only grid keys are given). Each setting maps dotted keys to values."""
    grid = sorted(key for key, dim in space.items() if dim.kind == "grid")
    drawn = sorted(key for key, dim in space.items() if dim.kind != "grid")
    points = [dict(zip(grid, values, strict=True)) for values in itertools.product(*(space[k].values for k in grid))]
    draws = samples if drawn else 1
    return [point | {key: draw(space[key], rng) for key in drawn} for point in points for _ in range(draws)]
