"""Fitting photographs to the model size (crop, antialiased resize) and the augmentations: horizontal flips and
random resized crops."""

import pytest
import torch

from genlab.build import build_trainer
from genlab.data import DataConfig, ImageSet, Sampler, load_dataset
from genlab.data.base import fit_images
from genlab.data.order import cropped
from genlab.errors import ConfigError, DataError
from genlab.train import RunDir


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


AUGMENTATIONS = pytest.mark.parametrize(
    "augment", [{"flip": True}, {"crop": 0.6}, {"flip": True, "crop": 0.6}], ids=["flip", "crop", "both"]
)


@AUGMENTATIONS
def test_augmentation_draws_follow_the_seed_and_position_so_a_restored_sampler_continues_exactly(distinct, augment):
    a = Sampler(distinct, batch_size=8, seed=1, device="cpu", **augment)
    for _ in range(5):
        a()
    b = Sampler(distinct, batch_size=8, seed=1, device="cpu", **augment)
    b.load_state_dict(a.state_dict())
    for _ in range(6):
        assert torch.equal(a().images, b().images)


@AUGMENTATIONS
def test_augmentation_slices_of_two_processes_make_up_the_single_process_batch(distinct, augment):
    one = Sampler(distinct, batch_size=8, seed=2, device="cpu", **augment)()
    parts = [Sampler(distinct, batch_size=4, seed=2, device="cpu", rank=r, world=2, **augment)() for r in (0, 1)]
    assert torch.equal(one.images, torch.cat([p.images for p in parts]))


def test_a_crop_window_is_cut_from_the_image_and_scaled_back_bilinearly():
    rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    ramp = (cols + 10 * rows).view(1, 1, 8, 8)  # bilinear interpolation of a linear ramp is exact
    # side 1/2 at (1/4, 1/4): pixels 2..5 of both axes. Output pixel j's centre, (j + 1/2) / 8 of the window, lies
    # at 2 + (j + 1/2) / 2 in the input's edge coordinates, so at pixel-centre coordinate 1.75 + j / 2.
    out = cropped(ramp, torch.tensor([[0.5, 0.25, 0.25]]))
    expected = (1.75 + cols / 2) + 10 * (1.75 + rows / 2)
    torch.testing.assert_close(out[0, 0], expected)
    whole = cropped(ramp.repeat(2, 3, 1, 1), torch.tensor([[1.0, 0.0, 0.0]] * 2))
    torch.testing.assert_close(whole, ramp.repeat(2, 3, 1, 1))  # the window (1, 0, 0) is the image itself


def test_random_crops_vary_per_image_within_the_smallest_side_and_stay_inside_the_image(distinct):
    sampler = Sampler(distinct, batch_size=32, seed=3, device="cpu", crop=0.5)
    windows = torch.cat([sampler.order.next().window for _ in range(20)])
    side, corner = windows[:, 0], windows[:, 1:]
    assert side.min() >= 0.5 and side.max() <= 1 and side.min() < 0.55 and side.max() > 0.95
    assert corner.min() >= 0 and (corner + side[:, None]).max() <= 1 and windows.unique(dim=0).shape[0] == 640
    plain, cut = Sampler(distinct, 32, 3, "cpu")(), Sampler(distinct, 32, 3, "cpu", crop=0.5)()
    assert not torch.equal(plain.images, cut.images)  # the same images in the same order, each cut
    assert torch.equal(
        Sampler(distinct, 32, 3, "cpu", flip=True)().images, Sampler(distinct, 32, 3, "cpu", flip=True)().images
    )


def test_augmentation_of_vectors_is_refused():
    points = ImageSet(torch.zeros(8, 2), None, "points")
    with pytest.raises(ConfigError, match=r"data\.flip"):
        Sampler(points, batch_size=4, seed=0, device="cpu", flip=True)
    with pytest.raises(ConfigError, match=r"data\.random_crop cuts images"):
        Sampler(points, batch_size=4, seed=0, device="cpu", crop=0.8)


def test_augmentation_on_a_vector_data_set_is_refused_when_it_loads():
    for setting in ({"flip": True}, {"random_crop": 0.8}):
        with pytest.raises(
            DataError, match=r"data\.channels, data\.flip, data\.random_crop, data\.pair and data\.style do not"
        ):
            load_dataset(DataConfig(name="ring8", **setting))


def test_random_crop_must_be_a_fraction_below_one():
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError, match=r"random_crop"):
            DataConfig(random_crop=bad)


def test_a_run_with_random_crops_trains_on_cut_batches(tiny_config, tmp_path):
    trainer = build_trainer(
        tiny_config("data.random_crop=0.75", "train.steps=2"), RunDir.create(tmp_path / "run", "tiny")
    )
    assert trainer.sampler.order.crop == 0.75
    batch = trainer.sampler()
    plain = Sampler(trainer.sampler.source.data, 16, 0, "cpu")()  # the same seed and position without the crop
    assert batch.images.shape == plain.images.shape and not torch.equal(batch.images, plain.images)
    assert trainer.fit().step == 2
