"""batchnorm: the same DCGAN without BatchNorm trains far worse; the arms really differ only in normalisation."""

from __future__ import annotations

import json

import torch
from PIL import Image

import genlab.lab.batchnorm as lab
from genlab.lab import run_lab
from genlab.runs import open_run


def test_dcgan_needs_batchnorm_and_the_arms_differ_only_there(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "DATA", [*lab.DATA, "data.name=digits"])
    monkeypatch.setattr(lab, "STEPS", 200)
    monkeypatch.setattr(lab, "EVAL_N", 500)
    assert lab.ARMS["wgan-gp, no BatchNorm"] == ("wgan-gp-mnist", lab.NO_NORM)  # the third arm, not trained here
    monkeypatch.setattr(lab, "ARMS", {name: lab.ARMS[name] for name in ("dcgan", "dcgan, no BatchNorm")})
    run_lab("batchnorm", tmp_path)
    fid = json.loads((tmp_path / "batchnorm.json").read_text())["fid"]
    assert fid["dcgan"] < 0.5 * fid["dcgan, no BatchNorm"], fid
    norms = {}
    for folder in ("dcgan", "dcgan-no-batchnorm"):
        recipe = open_run(tmp_path / "runs" / folder, device="cpu").recipe
        nets = (recipe.generator, recipe.discriminator)
        norms[folder] = [
            sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules()) for net in nets
        ]
    assert norms["dcgan"][0] > 0 and norms["dcgan"][1] > 0
    assert norms["dcgan-no-batchnorm"] == [0, 0]
    with Image.open(tmp_path / "batchnorm.png") as image:
        assert image.size[0] > 400
