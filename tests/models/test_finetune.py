"""Pre-training for few labels: the labelled subset, and both classifiers trained on it."""

from __future__ import annotations

import torch

import genlab
from genlab.config import load_config
from genlab.models.finetune import labelled_subset

from ..train.helpers import train


def test_the_labelled_subset_has_n_images_of_every_class_chosen_by_the_seed():
    labels = torch.arange(10).repeat(30)
    chosen = labelled_subset(labels, 4, seed=0)
    assert torch.bincount(labels[chosen]).tolist() == [4] * 10
    assert torch.equal(chosen, labelled_subset(labels, 4, seed=0))
    assert not torch.equal(chosen, labelled_subset(labels, 4, seed=1))


def test_pretrained_encoder_beats_scratch_with_few_labels(tmp_path):
    cfg = load_config(
        {
            "device": "cpu",
            "data": {"name": "digits", "size": 16},
            "model": {"recipe": "autoencoder", "code_dim": 32, "coder": {"arch": "conv", "width": 16}},
            "train": {"steps": 600, "batch_size": 64, "sample_every": 0, "progress": False},
        }
    )
    train(cfg, tmp_path / "ae")
    result = genlab.pretrain_finetune(tmp_path / "ae", [3], [0, 1], steps=150, device="cpu")
    summary = result["summary"]
    assert len(result["rows"]) == 2 and (tmp_path / "ae" / "pretrain-finetune.json").is_file()
    assert 0.1 < summary["scratch/3"]["mean"] < summary["pretrained/3"]["mean"]
