"""data.pair: the derived inputs are what they claim, aligned npz pairs load stacked, bad pairs are clear errors."""

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from genlab.data import DataConfig, StreamedSet, load_dataset, open_dataset
from genlab.data.pairs import BLUR_RADIUS, blur, mask, outline, split_pair
from genlab.data.sampler import Sampler
from genlab.errors import DataError

from .test_streaming import write_folder


def test_the_outline_of_a_filled_square_is_its_two_pixel_border_ring():
    square = torch.zeros(1, 1, 8, 8)
    square[..., 2:6, 2:6] = 1
    expected = torch.zeros(1, 1, 8, 8)
    expected[..., 1:7, 1:7] = 1  # one pixel outside the square ...
    expected[..., 3:5, 3:5] = 0  # ... and one inside it; the 2x2 core is interior, the far background empty
    assert torch.equal(outline(square), expected)


def test_blurring_a_point_gives_the_normalised_gaussian_by_hand():
    point = torch.zeros(1, 1, 9, 9)
    point[..., 4, 4] = 1
    t = torch.arange(-BLUR_RADIUS, BLUR_RADIUS + 1, dtype=torch.float32)
    g = torch.exp(-(t**2) / 2)  # sigma = 1
    g = g / g.sum()
    blurred = blur(point)
    assert torch.allclose(blurred[0, 0, 2:7, 2:7], torch.outer(g, g), atol=1e-7)
    assert blurred[0, 0, 4, 4].item() == pytest.approx(1 / (1 + 2 * math.exp(-0.5) + 2 * math.exp(-2)) ** 2)
    assert blurred.sum().item() == pytest.approx(1.0)  # away from the borders no ink is lost
    flat = torch.full((1, 3, 6, 6), 0.3)
    assert torch.allclose(blur(flat), flat)  # replicated borders: a flat image stays flat, every channel


def test_the_mask_hides_exactly_the_bottom_half_in_mid_grey():
    images = torch.rand(2, 1, 16, 16)
    hidden = mask(images)
    assert torch.equal(hidden[..., :8, :], images[..., :8, :])
    assert (hidden[..., 8:, :] == 0.5).all()


@pytest.mark.parametrize("pair", ["edges", "blur", "mask"])
def test_derived_pairs_stack_the_input_in_front_of_the_plain_image(pair):
    plain = load_dataset(DataConfig(name="digits", size=8, limit=20)).images
    pairs = load_dataset(DataConfig(name="digits", size=8, limit=20, pair=pair))
    assert pairs.shape == (2, 8, 8)
    inputs, targets = split_pair(pairs.images)
    assert torch.equal(targets, plain)
    derive = {"edges": outline, "blur": blur, "mask": mask}[pair]
    assert torch.allclose(inputs, derive((plain + 1) / 2) * 2 - 1, atol=1e-6)
    assert not torch.allclose(inputs, targets)


def test_a_flip_mirrors_both_halves_of_a_pair_alike():
    data = load_dataset(DataConfig(name="digits", size=8, pair="mask"))
    batch = Sampler(data, 64, seed=0, device="cpu", flip=True).next().images
    inputs, targets = split_pair(batch)
    # The mask hides whole rows, so a mirrored target's own mask must equal the mirrored input.
    assert torch.equal(inputs, mask((targets + 1) / 2) * 2 - 1)


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return DataConfig(name="npz", path=str(path), size=8, pair="inputs")


def test_aligned_npz_pairs_load_stacked_a_grey_input_beside_colour_targets_in_colour(tmp_path):
    inputs = np.random.default_rng(0).random((5, 8, 8)).astype(np.float32)
    targets = np.random.default_rng(1).random((5, 8, 8, 3)).astype(np.float32)
    pairs = load_dataset(_npz(tmp_path / "p.npz", images=targets, inputs=inputs))
    assert pairs.shape == (6, 8, 8)
    x, y = split_pair(pairs.images)
    assert torch.allclose(x, torch.from_numpy(inputs)[:, None].expand(-1, 3, -1, -1) * 2 - 1)
    assert torch.allclose(y, torch.from_numpy(targets).permute(0, 3, 1, 2) * 2 - 1)
    limited = load_dataset(_npz(tmp_path / "p.npz", images=targets, inputs=inputs).model_copy(update={"limit": 2}))
    assert torch.equal(limited.images, pairs.images[:2])  # the limit keeps pairs together


def test_bad_pairs_are_clear_errors(tmp_path):
    images = np.zeros((4, 8, 8), np.float32)
    with pytest.raises(DataError, match=r"needs an 'inputs' array .* it holds: images"):
        load_dataset(_npz(tmp_path / "a.npz", images=images))
    with pytest.raises(DataError, match=r"3 'inputs' for 4 'images'"):
        load_dataset(_npz(tmp_path / "b.npz", images=images, inputs=images[:3]))
    with pytest.raises(DataError, match=r"the 'inputs' are \(8, 6\) .* the 'images' \(8, 8\).* aligned"):
        load_dataset(_npz(tmp_path / "c.npz", images=images, inputs=images[..., :6]))
    broken = images.copy()
    broken[2, 3, 4] = np.nan
    with pytest.raises(DataError, match=r"array 'inputs' holds 1 NaN"):
        load_dataset(_npz(tmp_path / "d.npz", images=images, inputs=broken))
    with pytest.raises(ValidationError, match=r"data.pair: inputs reads the 'inputs' array of an npz file"):
        DataConfig(name="digits", pair="inputs")
    with pytest.raises(DataError, match=r"data.pair and data.style do not apply"):
        load_dataset(DataConfig(name="ring8", pair="blur"))


def test_a_streamed_folder_gives_the_pairs_the_folder_in_memory_holds(tmp_path):
    cfg = DataConfig(name="folder", path=str(write_folder(tmp_path / "photos")), size=8, pair="edges")
    streamed, _ = open_dataset(cfg.model_copy(update={"loader": "stream"}))
    in_memory, _ = open_dataset(cfg.model_copy(update={"loader": "memory"}))
    assert isinstance(streamed, StreamedSet) and streamed.shape == in_memory.shape == (6, 8, 8)
    assert torch.equal(streamed.take(torch.arange(4)), in_memory.images[:4])
