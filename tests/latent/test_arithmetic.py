"""Queries over labelled latents and the a - b + c arithmetic."""

import pytest
import torch

from genlab.errors import GenlabError
from genlab.latent.arithmetic import LabelledLatents, arithmetic, label_latents, pixel_arithmetic
from genlab.latent.attributes import ink, slant


def labelled():
    z = torch.arange(8.0).view(8, 1)
    classes = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    return LabelledLatents(z, classes, {"ink": torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])})


def test_queries_filter_by_class_then_take_quartiles_within_it():
    samples = labelled()
    assert samples.select("class=1").nonzero().flatten().tolist() == [4, 5, 6, 7]
    assert samples.select("ink=high,class=1").nonzero().flatten().tolist() == [7]  # top quarter of class 1
    assert samples.select("class=0,ink=low").nonzero().flatten().tolist() == [0]
    for bad, message in (("class=2", "no sample"), ("shape=high", "unknown key"), ("ink", "key=value")):
        with pytest.raises(GenlabError, match=message):
            samples.select(bad)


def test_arithmetic_of_group_means():
    a, b, c = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[1.0, 1.0]]), torch.tensor([[0.0, 5.0]])
    assert torch.equal(arithmetic(a, b, c), torch.tensor([1.0, 7.0]))


def test_pixel_arithmetic_by_hand_and_clipped_to_the_image_range():
    a = torch.tensor([[[[0.5, 1.0]]], [[[0.5, 0.0]]]])  # (2, 1, 1, 2): mean (0.5, 0.5)
    b = torch.tensor([[[[-0.5, 0.5]]]])
    c = torch.tensor([[[[0.5, 0.75]]]])
    assert torch.equal(pixel_arithmetic(a, b, c), torch.tensor([[[[1.0, 0.75]]]]))  # 0.5 + 0.5 + 0.5 clipped to 1
    with pytest.raises(ValueError, match="one shape"):
        pixel_arithmetic(a, b, torch.zeros(1, 1, 2, 2))


def test_with_a_linear_generator_ink_obeys_the_arithmetic():
    # ink is linear in the pixels, so for a linear G the attribute of a - b + c is the same combination.
    torch.manual_seed(0)
    weights = torch.randn(4, 1 * 6 * 6) * 0.1

    def g(z):
        return (z @ weights).view(-1, 1, 6, 6)

    z = torch.randn(300, 4)
    samples = label_latents(z, g(z), torch.zeros(300, dtype=torch.long), {"ink": ink})
    groups = [z[samples.select(q)] for q in ("ink=high", "ink=low", "ink=low")]
    result = ink(g(arithmetic(*groups)[None]))[0]
    expected = sum(sign * ink(g(group)).mean() for sign, group in zip((1, -1, 1), groups, strict=True))
    assert result.item() == pytest.approx(expected.item(), abs=1e-6)


def test_ink_and_slant_measure_what_they_say():
    image = -torch.ones(1, 1, 9, 9)
    thin = image.clone()
    thin[0, 0, :, 4] = 1  # a vertical stroke
    thick = image.clone()
    thick[0, 0, :, 3:6] = 1
    leaning = image.clone()
    for row in range(9):
        leaning[0, 0, row, 8 - row] = 1  # top right to bottom left: leans right
    assert ink(thick) > ink(thin) and ink(thin).item() == pytest.approx(9 / 81)
    assert slant(thin).item() == pytest.approx(0.0, abs=1e-6) and slant(leaning).item() == pytest.approx(1.0)
