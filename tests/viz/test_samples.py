import numpy as np
import pytest
import torch

from genlab.viz.samples import render_samples

GENERATED = [120, 149, 195]  # #1f4e9c at alpha 0.6 over white: 255 * 0.4 + (31, 78, 156) * 0.6


def test_small_images_become_a_grid_enlarged_to_about_64_pixels():
    images = torch.ones(3, 1, 8, 8)
    images[1] = -1
    picture = render_samples(images)
    # 3 images -> 2 x 2 grid of 8-pixel tiles with 2-pixel gaps: 22 x 22, then 64 // 8 = 8 times larger
    assert picture.shape == (176, 176, 1) and picture.dtype == np.uint8
    assert picture[16, 16, 0] == 255 and picture[16 + 63, 16 + 63, 0] == 255  # first tile spans rows 16..79
    assert picture[16, 96, 0] == 0 and picture[0, 0, 0] == 0  # second tile (black) and the gap
    assert render_samples(torch.zeros(1, 3, 64, 64)).shape == (68, 68, 3)  # large images are not enlarged


def test_points_are_drawn_where_the_reference_limits_put_them():
    reference = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])  # axes span 0 +- 1.1 (10% margin) over 400 pixels
    picture = render_samples(torch.tensor([[0.55, 0.0]]), reference)
    assert picture.shape == (400, 400, 3) and picture.dtype == np.uint8
    assert np.abs(picture[200, 300].astype(int) - GENERATED).max() <= 2  # x: (0.55 + 1.1) / 2.2 * 400 = 300
    assert picture[382, 18].tolist() == [200, 200, 200]  # reference (-1, -1): 0.1 / 2.2 * 400 = 18 from the corner
    assert picture[18, 382].tolist() == [200, 200, 200]
    assert picture[200, 100].tolist() == [255, 255, 255]


def test_without_reference_the_samples_set_the_limits():
    picture = render_samples(torch.tensor([[0.0, 0.0], [2.0, 1.0]]))  # x in -0.1..2.1, y in -0.6..1.6
    assert np.abs(picture[291, 18].astype(int) - GENERATED).max() <= 2  # row 400 - 0.6 / 2.2 * 400 = 291
    assert np.abs(picture[109, 382].astype(int) - GENERATED).max() <= 2


def test_other_shapes_are_refused():
    with pytest.raises(ValueError, match=r"not samples of shape \(4, 3\)"):
        render_samples(torch.zeros(4, 3))
