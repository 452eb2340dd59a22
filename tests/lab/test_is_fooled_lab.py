"""is-fooled: ten images, one per class, score an Inception Score near real data's, while FID and recall see
the missing diversity; a single class is caught by IS itself."""

from __future__ import annotations

import json

import torch
from PIL import Image

import genlab.lab.is_fooled as lab
from genlab.lab import run_lab


def test_tiling_keeps_every_chunk_balanced():
    images = torch.arange(3.0).view(3, 1, 1, 1)
    assert lab.tiled(images, 7).flatten().tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_is_is_fooled_by_one_image_per_class_and_fid_and_recall_are_not(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "STEPS", 20)
    run_lab("is-fooled", tmp_path)
    saved = json.loads((tmp_path / "is-fooled.json").read_text())
    scores, real = saved["scores"], saved["scores"]["real"]
    ten = scores["one per class"]
    assert saved["distinct_images"]["one per class"] == 10 and saved["distinct_images"]["real"] == 360
    assert ten["is"] > 0.9 * real["is"] and real["is"] > 5  # IS: ten images look as good as the real set
    assert ten["recall"] < 0.5 * real["recall"] and ten["fid"] > 5 * real["fid"]  # the others see it
    assert scores["one class"]["is"] < 1.5 < real["is"] / 3  # a single class: IS does catch this
    with Image.open(tmp_path / "is-fooled.png") as image:
        assert image.size[0] > 500
