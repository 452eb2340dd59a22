"""Latent directions and their entanglement on a model whose attributes are known coordinates."""

import pytest
import torch

from genlab.latent.directions import direction_from_labels, entanglement, move

decode = torch.nn.Identity()
ATTRIBUTES = {"a0": lambda x: x[:, 0], "a1": lambda x: x[:, 1], "a0+a1": lambda x: x[:, 0] + x[:, 1]}


@pytest.mark.parametrize("method", ["mean", "linear"])
def test_direction_from_labels_points_along_the_labelled_coordinate(method):
    z = torch.randn(4000, 8, generator=torch.Generator().manual_seed(0))
    d = direction_from_labels(z, z[:, 0] > 0, method)
    assert d.norm().item() == pytest.approx(1.0) and d[0] > 0.95


def test_entanglement_is_zero_for_a_clean_direction_and_one_for_a_mixed_one():
    z = torch.randn(1000, 4, generator=torch.Generator().manual_seed(0))
    clean = entanglement(
        decode, z, torch.tensor([1.0, 0, 0, 0]), {"a0": ATTRIBUTES["a0"], "a1": ATTRIBUTES["a1"]}, "a0"
    )
    assert clean.score == pytest.approx(0.0, abs=1e-6)
    assert clean.changes["a0"][-1] == pytest.approx(2.0 / z[:, 0].std().item(), rel=1e-4)  # |s| = 2 in std units
    mixed_direction = torch.tensor([1.0, 1.0, 0, 0]) / 2**0.5
    mixed = entanglement(decode, z, mixed_direction, {"a0": ATTRIBUTES["a0"], "a1": ATTRIBUTES["a1"]}, "a0")
    assert mixed.score == pytest.approx(z[:, 0].std().item() / z[:, 1].std().item(), rel=1e-4)


def test_move_applies_every_strength():
    z, d = torch.zeros(3, 2), torch.tensor([0.0, 1.0])
    moved = move(z, d, [-1, 2])
    assert moved.shape == (2, 3, 2) and torch.equal(moved[1, 0], torch.tensor([0.0, 2.0]))
    with pytest.raises(ValueError, match="both with and without"):
        direction_from_labels(z, torch.ones(3, dtype=torch.bool))
