"""Options every data set shares: disjoint halves of a split and restyled images (domains for translation)."""

import pytest
import torch

from genlab.data import DataConfig, load_dataset
from genlab.errors import DataError


def test_halves_are_disjoint_and_cover_the_split():
    whole = load_dataset(DataConfig(name="digits", size=8))
    first = load_dataset(DataConfig(name="digits", size=8, half="first"))
    second = load_dataset(DataConfig(name="digits", size=8, half="second"))
    assert len(first) + len(second) == len(whole) and len(first) == len(whole) // 2
    assert torch.equal(torch.cat([first.images, second.images]), whole.images)
    assert torch.equal(torch.cat([first.labels, second.labels]), whole.labels)
    assert len(load_dataset(DataConfig(name="digits", size=8, half="second", limit=5))) == 5


def test_styles_invert_and_thicken_the_strokes():
    plain = load_dataset(DataConfig(name="digits", size=16)).images
    inverted = load_dataset(DataConfig(name="digits", size=16, style="invert")).images
    thick = load_dataset(DataConfig(name="digits", size=16, style="thicken")).images
    assert torch.allclose(inverted, -plain)  # 1 - x in [0, 1] is -x in [-1, 1]
    assert (thick >= plain - 1e-6).all()  # a maximum filter only adds ink
    ink = lambda images: (images > 0).float().mean().item()  # noqa: E731
    assert ink(thick) > 1.3 * ink(plain)
    with pytest.raises(DataError, match=r"data\.style do not apply"):
        load_dataset(DataConfig(name="ring8", style="invert"))
