"""Fitting photographs to the model size (crop, antialiased resize) and the horizontal-flip augmentation."""

import pytest
import torch

from genlab.data import DataConfig, ImageSet, Sampler, load_dataset
from genlab.data.base import fit_images
from genlab.errors import ConfigError, DataError


def test_downscaling_a_fine_checkerboard_averages_to_grey_instead_of_aliasing():
    # 100 -> 32, not 128 -> 32: at a whole factor of 4 plain bilinear happens to sample between two squares
    rows, cols = torch.meshgrid(torch.arange(100), torch.arange(100), indexing="ij")
    board = ((rows + cols) % 2).float().view(1, 1, 100, 100)
    for fit in ("resize", "crop"):
        small = fit_images(board, 32, fit)
        assert small.shape == (1, 1, 32, 32)
        assert (small - 0.5).abs().max() < 0.02, fit  # plain bilinear gives a moire up to 0.38 from grey


def test_crop_keeps_the_centre_square_of_a_wide_image_and_drops_its_sides():
    wide = torch.zeros(1, 1, 8, 24)
    wide[..., 8:14] = 1.0  # the centre square's left six columns are white; it and both sides are otherwise black
    square = wide[..., 8:16]
    for fit in ("crop", "resize"):
        assert torch.equal(fit_images(wide, 8, fit), square), fit
    halved = fit_images(wide, 4, "crop")[0, 0]  # the whole square scaled (3/4 white), not a 4x4 cut from its middle
    assert abs(halved.mean() - 0.75) < 0.01 and halved[:, 0].eq(1).all() and halved[:, 3].lt(0.2).all()


def test_celeba_fits_by_cropping_and_other_data_sets_by_resizing_unless_told():
    assert DataConfig(name="celeba").fit == "crop"
    assert DataConfig(name="folder").fit == "resize"
    assert DataConfig(name="celeba", fit="pad").fit == "pad"


@pytest.fixture
def distinct():
    """32 asymmetric images, each told apart by its value, so that flipped copies can be recognised."""
    images = torch.linspace(0, 1, 4).repeat(32, 1, 4, 1) * torch.arange(1, 33).view(-1, 1, 1, 1) / 32
    return ImageSet(images, None, "ramps")


def test_flip_mirrors_about_half_of_every_batch_exactly(distinct):
    sampler = Sampler(distinct, batch_size=16, seed=0, device="cpu", flip=True)
    for _ in range(4):
        flipped = 0
        for image in sampler().images:
            same, mirrored = (distinct.images == image).flatten(1).all(1), (distinct.images.flip(-1) == image)
            flipped += int(mirrored.flatten(1).all(1).any())
            assert same.any() or mirrored.flatten(1).all(1).any()
        assert flipped == 8


def test_flip_draws_follow_the_seed_and_position_so_a_restored_sampler_continues_exactly(distinct):
    a = Sampler(distinct, batch_size=8, seed=1, device="cpu", flip=True)
    for _ in range(5):
        a()
    b = Sampler(distinct, batch_size=8, seed=1, device="cpu", flip=True)
    b.load_state_dict(a.state_dict())
    for _ in range(6):
        assert torch.equal(a().images, b().images)


def test_flip_slices_of_two_processes_make_up_the_single_process_batch(distinct):
    one = Sampler(distinct, batch_size=8, seed=2, device="cpu", flip=True)()
    parts = [Sampler(distinct, batch_size=4, seed=2, device="cpu", flip=True, rank=r, world=2)() for r in (0, 1)]
    assert torch.equal(one.images, torch.cat([p.images for p in parts]))


def test_flip_on_vectors_is_refused():
    with pytest.raises(ConfigError, match=r"data\.flip"):
        Sampler(ImageSet(torch.zeros(8, 2), None, "points"), batch_size=4, seed=0, device="cpu", flip=True)


def test_flip_on_a_vector_data_set_is_refused_when_it_loads():
    with pytest.raises(DataError, match=r"data\.channels, data\.flip and data\.style do not apply"):
        load_dataset(DataConfig(name="ring8", flip=True))
