"""divergences: for two parallel unit segments θ apart, KL = inf, JS = ln 2 and TV = 1 for every θ ≠ 0, W1 = |θ|."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

import genlab.lab.divergences as lab
from genlab.lab import run_lab


def test_the_theta_example(tmp_path):
    run_lab("divergences", tmp_path)
    saved = json.loads((tmp_path / "divergences.json").read_text(), parse_constant=pytest.fail)
    thetas = np.asarray(saved["theta"])
    assert 0.0 in thetas and thetas.min() == -1 and thetas.max() == 1
    columns = zip(thetas, saved["kl"], saved["js"], saved["js_distance"], saved["tv"], saved["w1"], strict=True)
    for theta, kl, js, js_distance, tv, w1 in columns:
        if theta == 0:
            assert kl == 0 and js == 0 and js_distance == 0 and tv == 0
        else:
            assert kl == "inf" and tv == pytest.approx(1.0, abs=1e-12)
            assert js == pytest.approx(math.log(2), abs=1e-12)
            assert js_distance == pytest.approx(math.sqrt(math.log(2)), abs=1e-12)
        assert w1 == pytest.approx(abs(theta), abs=1e-9)
    with Image.open(tmp_path / "divergences.png") as image:
        assert image.size[0] > 300


def test_histograms_put_each_segment_in_its_own_column():
    thetas = np.array([-0.5, 0.0, 0.25])
    p = lab.cell_histogram(lab.segment(0.0, 40), thetas, 4).reshape(3, 4)
    q = lab.cell_histogram(lab.segment(0.25, 40), thetas, 4).reshape(3, 4)
    assert p[1].tolist() == [0.25] * 4 and p.sum() == 1 and q[2].tolist() == [0.25] * 4 and q.sum() == 1


def test_numbers_come_from_genlab_metrics(monkeypatch):
    thetas = np.array([-0.5, 0.0, 0.5])
    seen = []

    def fake_js(p, q):
        seen.append((np.asarray(p).copy(), np.asarray(q).copy()))
        return 0.123

    monkeypatch.setattr(lab, "js_divergence", fake_js)
    monkeypatch.setattr(lab, "kl_divergence", lambda p, q: 4.5)
    monkeypatch.setattr(lab, "emd", lambda x, y: -7.0)
    monkeypatch.setattr(lab, "js_distance", lambda p, q: 0.5)
    monkeypatch.setattr(lab, "total_variation", lambda p, q: 0.25)
    sweep = lab.theta_sweep(thetas, n=20, y_cells=5)
    assert sweep == {"kl": [4.5] * 3, "js": [0.123] * 3, "js_distance": [0.5] * 3, "tv": [0.25] * 3, "w1": [-7.0] * 3}
    assert len(seen) == 3 and all(p.shape == (15,) for p, _ in seen)


def test_bad_grid_is_rejected():
    with pytest.raises(ValueError, match="θ grid"):
        lab.theta_sweep(np.array([]))
