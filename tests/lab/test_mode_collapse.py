"""Mode collapse on the ring of 8: the R1 fix ends with all 8 modes; the logged numbers match the saved runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from genlab.api import load_run
from genlab.data.toy import MIXTURES
from genlab.lab import run_lab
from genlab.lab.mode_collapse import EVERY, FIX, OBJECTIVES, STEPS
from genlab.metrics import mode_stats


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("mode-collapse")
    return out, run_lab("mode-collapse", out, seed=0).numbers


def test_fix_keeps_all_eight_modes(lab):
    _, numbers = lab
    assert numbers["fix"] == FIX and numbers["final_modes"][FIX] == 8
    assert numbers["modes-over-time"][FIX]["covered"][-1] == 8
    assert numbers["final_high_quality"][FIX] > 0.3


def test_modes_over_time_for_every_objective(lab):
    _, numbers = lab
    history = numbers["modes-over-time"]
    assert set(history) == set(OBJECTIVES)
    for stats in history.values():
        assert stats["steps"] == list(range(EVERY, STEPS + 1, EVERY))
        assert all(0 <= c <= 8 for c in stats["covered"])
        assert all(0.0 <= q <= 1.0 for q in stats["high_quality"])


def test_logged_numbers_describe_the_final_generator(lab):
    # Recount the modes of the saved final generator independently of the trainer's log.
    out, numbers = lab
    mixture = MIXTURES["ring8"]
    for name in OBJECTIVES:
        points = load_run(out / "runs" / name, device="cpu").sample(2500, generator=torch.Generator().manual_seed(0))
        stats = mode_stats(points, mixture)
        assert stats.modes_covered == numbers["final_modes"][name]
        assert np.isclose(stats.high_quality, numbers["final_high_quality"][name], atol=1e-4)


def test_figure_is_a_grid(lab):
    out, _ = lab
    with Image.open(out / "mode-collapse.png") as figure:
        assert figure.format == "PNG" and figure.width > figure.height  # 6 snapshot columns, 3 objective rows
