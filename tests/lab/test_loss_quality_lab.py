"""loss-vs-quality: WGAN-GP's critic estimate falls with FID over training, the standard GAN's D loss does not."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from scipy.stats import spearmanr

import genlab.lab.loss_quality as lab
from genlab.lab import run_lab


def test_the_critic_estimate_tracks_fid_and_the_d_loss_does_not(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "DATA", [*lab.DATA, "data.name=digits"])
    monkeypatch.setattr(lab, "STEPS", 240)
    monkeypatch.setattr(lab, "EVERY", 40)
    monkeypatch.setattr(lab, "EVAL_N", 500)
    run_lab("loss-vs-quality", tmp_path)
    saved = json.loads((tmp_path / "loss-vs-quality.json").read_text())
    wgan, standard = saved["wgan-gp"], saved["nonsaturating"]
    assert wgan["steps"] == standard["steps"] == [40, 80, 120, 160, 200, 240]
    assert wgan["spearman"] == pytest.approx(spearmanr(wgan["loss"], wgan["fid"]).statistic)
    assert wgan["fid"][-1] < 0.5 * wgan["fid"][0] and standard["fid"][-1] < 0.5 * standard["fid"][0]  # both learn
    assert wgan["spearman_after_first"] > 0.8 > 0.3 > standard["spearman_after_first"]
    with Image.open(tmp_path / "loss-vs-quality.png") as image:
        assert image.size[0] > 500


def test_the_loss_read_at_each_evaluation_is_the_interval_mean(tmp_path):
    records = [
        {"step": 10, "loss/d": 0.5, "D(x)": 2.0, "D(G(z))": -1.0},
        {"step": 10, "eval/fid": 30.0},
        {"step": 20, "loss/d": 0.7, "D(x)": 1.0, "D(G(z))": 0.5},
        {"step": 20, "eval/fid": 20.0},
        {"step": 25, "eval/fid": 19.0},  # an evaluation without its interval record (the last, partial one)
    ]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert lab.curves("wgan-gp", tmp_path) == {"steps": [10, 20], "fid": [30.0, 20.0], "loss": [3.0, 0.5]}
    assert lab.curves("nonsaturating", tmp_path)["loss"] == [0.5, 0.7]
