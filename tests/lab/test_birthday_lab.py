"""birthday: the support test reads off the known size of a copying generator, and real digits' support is far
larger; the GAN is trained by genlab's trainer (shortened here) and its closest pairs are drawn."""

from __future__ import annotations

import json

import pytest
from PIL import Image

import genlab.lab.birthday as lab
from genlab.lab import run_lab


def test_birthday_lab_calibrates_on_copies_and_writes_the_pairs(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "STEPS", 20)
    run_lab("birthday", tmp_path)
    saved = json.loads((tmp_path / "birthday.json").read_text())
    support = saved["support"]
    assert support["copies"]["support_pairs"] == pytest.approx(lab.COPIED, rel=0.25)
    assert support["copies"]["support_batch"] == pytest.approx(lab.COPIED, rel=0.6)
    assert support["real"]["support_pairs"] > 100 * support["copies"]["support_pairs"]
    doubled = saved["support_at_twice_the_threshold"]
    assert doubled["real"]["support_pairs"] <= support["real"]["support_pairs"]  # a looser τ finds more pairs
    pairs = saved["gan_closest_pairs"]
    assert len(pairs["pairs"]) == lab.PAIRS_SHOWN and pairs["distances"] == sorted(pairs["distances"])
    assert (tmp_path / "runs" / "gan" / "checkpoints").is_dir()
    with Image.open(tmp_path / "birthday.png") as image:
        assert image.size[0] > 500
