"""The 1-D GAN demo: G's samples move onto N(4, 0.5²) (W1 shrinks), and the GIF and strip are written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from genlab.lab import run_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan-1d")
    return out, run_lab("gan-1d", out, seed=0).numbers


def test_generator_moves_onto_the_data(lab):
    _, numbers = lab
    # At initialisation G's output sits near 0, about 4 away from the data; training must close most of that gap.
    assert numbers["g_mean"][0] < 2.0 and numbers["first_w1"] > 2.0
    assert numbers["final_w1"] < 0.3 * numbers["first_w1"]
    assert abs(numbers["g_mean"][-1] - numbers["data_mean"]) < 0.3
    assert numbers["w1"][0] == numbers["first_w1"] and numbers["w1"][-1] == numbers["final_w1"]
    # W1 is at least the gap between the means (Jensen: |E u - E v| <= E|u - v| for any coupling).
    gaps = np.abs(np.array(numbers["g_mean"]) - numbers["data_mean"])
    assert np.all(np.array(numbers["w1"]) >= gaps - 0.05)


def test_files_and_frames(lab):
    out, numbers = lab
    frames = len(numbers["steps"])
    assert frames >= 5 and numbers["steps"][0] == 0 and numbers["steps"] == sorted(numbers["steps"])
    with Image.open(out / "gan-1d.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == frames
    with Image.open(out / "gan-1d.png") as strip:
        assert strip.width > 3 * strip.height  # a strip of six panels side by side
    saved = json.loads((out / "gan-1d.json").read_text())
    assert saved["final_w1"] == numbers["final_w1"] and len(saved["g_std"]) == frames
