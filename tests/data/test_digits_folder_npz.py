import numpy as np
import pytest
import torch
from PIL import Image

from genlab.data import DataConfig, fit_images, load_dataset
from genlab.data.digits import digits_split_indices
from genlab.data.folder import save_images
from genlab.data.npz import save_npz
from genlab.errors import DataError


def test_digits_is_bundled_in_range_and_split_without_overlap():
    train = load_dataset(DataConfig(name="digits", size=16))
    assert train.images.shape == (1437, 1, 16, 16)
    assert train.images.min() == -1 and train.images.max() == 1
    assert train.class_names == tuple("0123456789")
    assert set(digits_split_indices("train")).isdisjoint(digits_split_indices("test"))
    assert len(digits_split_indices("test")) == 360
    assert len(load_dataset(DataConfig(name="digits", split="all", size=8))) == 1797


def test_digits_at_native_size_matches_sklearn_exactly():
    from sklearn.datasets import load_digits

    data = load_dataset(DataConfig(name="digits", size=8, split="all"))
    expected = torch.from_numpy(load_digits().images / 16.0 * 2 - 1).float()
    assert torch.allclose(data.images[:, 0], expected)


def test_fit_resize_keeps_aspect_and_pad_keeps_pixels():
    wide = torch.rand(2, 1, 10, 20)
    assert fit_images(wide, 8, "resize").shape == (2, 1, 8, 8)
    padded = fit_images(torch.ones(1, 1, 28, 28), 32, "pad")
    assert padded.shape == (1, 1, 32, 32)
    assert padded[0, 0, 2:30, 2:30].eq(1).all() and padded.sum() == 28 * 28
    cropped = fit_images(torch.arange(36.0).view(1, 1, 6, 6), 4, "pad")
    assert cropped[0, 0, 0].tolist() == [7.0, 8.0, 9.0, 10.0]


def test_channels_can_be_forced():
    rgb = load_dataset(DataConfig(name="digits", size=8, channels=3, limit=5))
    assert rgb.images.shape == (5, 3, 8, 8)
    assert (rgb.images[:, 0] == rgb.images[:, 2]).all()


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_with_class_subfolders_gives_sorted_labels_and_skips_bad_files(tmp_path):
    _save(tmp_path / "cats" / "a.png", np.full((20, 30, 3), 200, np.uint8))
    _save(tmp_path / "dogs" / "b.jpg", np.full((12, 12, 3), 10, np.uint8))
    _save(tmp_path / "dogs" / "c.png", np.full((12, 12), 255, np.uint8))  # grey image in an RGB set
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not a png")
    (tmp_path / "cats" / "notes.txt").write_text("ignored: not an image extension")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image file.*broken\.png"):
        data = load_dataset(DataConfig(name="folder", path=str(tmp_path), size=8))
    assert data.images.shape == (3, 3, 8, 8)
    assert data.class_names == ("cats", "dogs")
    assert data.labels.tolist() == [0, 1, 1]
    assert data.images[2].eq(1).all()  # white grey image broadcast to 3 channels


def test_folder_without_subfolders_is_unlabelled_and_grey(tmp_path):
    for i in range(3):
        _save(tmp_path / f"{i}.png", np.full((16, 16), 60 * i, np.uint8))
    data = load_dataset(DataConfig(name="folder", path=str(tmp_path), size=16))
    assert data.labels is None and data.images.shape == (3, 1, 16, 16)


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match=r"needs data\.path"):
        load_dataset(DataConfig(name="folder"))
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(DataConfig(name="folder", path=str(tmp_path / "missing")))
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="no readable images"), pytest.warns(UserWarning):
        load_dataset(DataConfig(name="folder", path=str(tmp_path)))


@pytest.mark.parametrize(
    ("array", "expected_max"),
    [
        (np.full((4, 8, 8), 255, np.uint8), 1.0),  # (N, H, W) uint8
        (np.full((4, 8, 8, 3), 0.5, np.float32), 0.0),  # (N, H, W, C) in [0, 1]
        (np.full((4, 3, 8, 8), -1.0, np.float32), -1.0),  # (N, C, H, W) in [-1, 1]
    ],
)
def test_npz_layouts_and_ranges(tmp_path, array, expected_max):
    path = tmp_path / "d.npz"
    np.savez(path, images=array, labels=np.arange(4))
    data = load_dataset(DataConfig(name="npz", path=str(path), size=8))
    assert data.images.shape[0] == 4 and data.images.shape[2:] == (8, 8)
    assert data.images.max().item() == pytest.approx(expected_max)
    assert data.labels.tolist() == [0, 1, 2, 3]


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "a.npz", pixels=np.zeros((2, 8, 8)))
    with pytest.raises(DataError, match=r"no 'images'.*holds: pixels"):
        load_dataset(DataConfig(name="npz", path=str(tmp_path / "a.npz")))
    np.savez(tmp_path / "b.npz", images=np.full((2, 8, 8), 7.0))
    with pytest.raises(DataError, match=r"span \[7, 7\]"):
        load_dataset(DataConfig(name="npz", path=str(tmp_path / "b.npz")))
    (tmp_path / "c.npz").write_bytes(b"junk")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset(DataConfig(name="npz", path=str(tmp_path / "c.npz")))
    np.savez(tmp_path / "d.npz", images=np.zeros((2, 8, 8)), labels=np.zeros(3))
    with pytest.raises(DataError, match="3 labels for 2 images"):
        load_dataset(DataConfig(name="npz", path=str(tmp_path / "d.npz")))


def test_saved_npz_files_and_png_folders_read_back_as_the_saved_images(tmp_path):
    images = torch.rand(5, 3, 8, 8) * 2 - 1
    labels = torch.tensor([3, 1, 4, 1, 5])
    for saved in (images, images.abs()):  # samples in [0, 1] must not be read as if [0, 1] meant black to white
        save_npz(tmp_path / "s.npz", saved, labels)
        back = load_dataset(DataConfig(name="npz", path=str(tmp_path / "s.npz"), size=8))
        assert torch.allclose(back.images, saved, atol=1e-6) and back.labels.tolist() == labels.tolist()
    written = save_images(images, tmp_path / "pngs")
    assert [p.name for p in written[:2]] == ["000000.png", "000001.png"]
    back = load_dataset(DataConfig(name="folder", path=str(tmp_path / "pngs"), size=8))
    assert torch.allclose(back.images, ((images + 1) * 127.5).round() / 127.5 - 1, atol=1e-6)
    with pytest.raises(DataError, match="already holds 5 image file"):
        save_images(images, tmp_path / "pngs")
