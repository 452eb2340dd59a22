import numpy as np
import pytest
import torch
from PIL import Image

from genlab.metrics.memorisation import ClosestPairs
from genlab.viz.closest_pairs import plot_closest_pairs


@pytest.mark.parametrize("channels", [1, 3])
def test_plot_writes_a_png_with_two_rows(tmp_path, channels):
    rng = torch.Generator().manual_seed(0)
    generated = torch.rand(10, channels, 16, 16, generator=rng) * 2 - 1
    train = torch.rand(30, channels, 16, 16, generator=rng) * 2 - 1
    pairs = ClosestPairs(np.array([3, 0, 9, 5]), np.array([29, 1, 0, 7]), np.array([0.01, 0.2, 0.3, 0.4]))
    path = plot_closest_pairs(generated, train.numpy(), pairs, tmp_path / "sub" / "closest.png")
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        width, height = image.size
        pixels = np.asarray(image.convert("L"))
    assert width > height > 100  # four columns, two rows
    assert pixels.std() > 10  # the random images are drawn, not a blank canvas


def test_bad_pictures_are_refused(tmp_path):
    pairs = ClosestPairs(np.array([0]), np.array([5]), np.array([0.0]))
    with pytest.raises(ValueError, match="only 5 train images"):
        plot_closest_pairs(torch.zeros(2, 1, 8, 8), torch.zeros(5, 1, 8, 8), pairs, tmp_path / "x.png")
    with pytest.raises(ValueError, match="C = 1 or 3"):
        plot_closest_pairs(torch.zeros(2, 2, 8, 8), torch.zeros(5, 2, 8, 8), pairs, tmp_path / "x.png")
