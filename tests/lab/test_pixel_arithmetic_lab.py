"""pixel-arithmetic: the same a − b + c in z and on pixels, read by the classifier; the pixel overlay is the one
that leaves the real manifold."""

from __future__ import annotations

import json

import pytest

import genlab.lab.pixel_arithmetic as lab
from genlab.lab import run_lab


def test_class_pairs_are_distinct_ordered_pairs_fixed_by_the_seed():
    pairs = lab.class_pairs(90, seed=3)
    assert len(set(pairs)) == 90 and all(i != j for i, j in pairs)
    assert lab.class_pairs(5, seed=3) == pairs[:5] != lab.class_pairs(5, seed=4)


def test_summary_counts_by_hand():
    def trial(to, z_class, realism):
        row = {"to": to}
        for space in lab.SPACES:
            row.update({f"{space}_class": z_class, f"{space}_confidence": 0.5, f"{space}_realism": realism})
            row.update({f"{space}_ink": 2.0, f"{space}_mean_c_ink": 1.0})
        return row

    found = lab.summary([trial(3, 3, 1.5), trial(4, 1, 0.5), trial(5, 5, 0.9)])["pixel"]
    assert found["class_kept"] == pytest.approx(2 / 3) and found["realistic"] == pytest.approx(1 / 3)
    assert found["median_realism"] == 0.9 and found["thicker"] == 1 and found["confidence"] == 0.5


def test_pixel_results_are_less_realistic_than_z_results(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "STEPS", 400)
    monkeypatch.setattr(lab, "TRIALS", 4)
    result = run_lab("pixel-arithmetic", tmp_path)
    saved = json.loads((tmp_path / "pixel-arithmetic.json").read_text())
    summary = saved["summary"]
    assert len(saved["trials"]) + len(saved["skipped"]) == 4 and len(saved["trials"]) >= 2
    assert summary["pixel"]["median_realism"] < summary["z"]["median_realism"], summary
    assert summary["pixel"]["realistic"] < summary["z"]["realistic"], summary
    assert all(path.is_file() for path in result.files)
    assert all(len(t["figures"]) == 2 for t in saved["trials"])
