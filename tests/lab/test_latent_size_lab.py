"""latent-size: a 2-dimensional latent space cannot cover the digits that 32 dimensions cover."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import genlab.lab.latent_size as lab
from genlab.lab import run_lab


def test_class_modes_by_hand():
    predicted = torch.tensor([0] * 50 + [1] * 49 + [2])  # class 2 holds 1 % of the predictions
    found = lab.class_modes(predicted)
    assert found["classes"] == 3
    share = torch.tensor([0.5, 0.49, 0.01], dtype=torch.float64)
    assert found["class_kl"] == pytest.approx(float((share * (share * 10).log()).sum()), rel=1e-9)


def test_two_latent_dimensions_lose_recall(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "DATA", [*lab.DATA, "data.name=digits"])
    monkeypatch.setattr(lab, "Z_DIMS", (2, 32))
    monkeypatch.setattr(lab, "STEPS", 300)
    monkeypatch.setattr(lab, "EVAL_N", 500)
    run_lab("latent-size", tmp_path)
    scores = json.loads((tmp_path / "latent-size.json").read_text())["scores"]
    assert scores["2"]["recall"] < 0.5 * scores["32"]["recall"], scores
    assert scores["2"]["fid"] > scores["32"]["fid"]
    with Image.open(tmp_path / "latent-size.png") as image:
        assert image.size[0] > 500
