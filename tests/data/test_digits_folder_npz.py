import numpy as np
import pytest
import torch
from PIL import Image

from genlab.data import DataConfig, fit_images, load_dataset
from genlab.data.digits import digits_split_indices
from genlab.data.folder import read_image, save_images
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


def test_folder_with_class_subfolders_gives_sorted_labels(tmp_path):
    _save(tmp_path / "cats" / "a.png", np.full((20, 30, 3), 200, np.uint8))
    _save(tmp_path / "dogs" / "b.jpg", np.full((12, 12, 3), 10, np.uint8))
    _save(tmp_path / "dogs" / "c.png", np.full((12, 12), 255, np.uint8))  # grey image in an RGB set
    (tmp_path / "cats" / "notes.txt").write_text("ignored: not an image extension")
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
    (tmp_path / "notes.gif").write_bytes(b"GIF89a")
    with pytest.raises(DataError, match=r"no image files .* other file\(s\), e\.g\. notes\.gif\. Put images there"):
        load_dataset(DataConfig(name="folder", path=str(tmp_path)))


def _truncated_png(path):
    _save(path, np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:200])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda path: path.write_bytes(b""), "is empty"),
        (lambda path: path.write_bytes(b"not a png"), "cannot identify"),
        (_truncated_png, "truncated"),
    ],
)
def test_an_unreadable_file_stops_the_load_with_its_name_and_the_fix(tmp_path, make, reason):
    # A skipped file would silently shrink the data set (and a class): the load stops and names the file.
    _save(tmp_path / "cats" / "good.png", np.full((8, 8), 200, np.uint8))
    make(tmp_path / "cats" / "bad.png")
    with pytest.raises(DataError, match=rf"bad\.png .*{reason}.*re-save it as PNG or JPEG, or move it out"):
        load_dataset(DataConfig(name="folder", path=str(tmp_path), size=8))


def test_a_16_bit_ramp_is_scaled_by_65535_not_clipped(tmp_path):
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)  # every 16-bit value once
    Image.fromarray(ramp).save(tmp_path / "ramp.png")  # opens as mode I;16 (I in old Pillow)
    image = read_image(tmp_path / "ramp.png", 256, "resize")
    assert image.shape == (1, 256, 256)
    # Values k / 65535 for k = 0..65535: mean exactly 1/2, ends 0 and 1, neighbours 1/65535 apart.
    assert image.double().mean().item() == pytest.approx(0.5, abs=1e-7)
    assert (image.min().item(), image.max().item()) == (0.0, 1.0)
    assert image[0, 0, 1].item() == pytest.approx(1 / 65535, rel=1e-6)


def _stroke_image(mode, ink, canvas):
    """A 16x16 image of mode ``mode``: a 2x8 stroke of colour ``ink`` on a fully transparent ``canvas``."""
    if mode == "P":
        image = Image.new("P", (16, 16), 0)
        image.putpalette([*canvas, *ink])
        image.paste(1, (7, 4, 9, 12))
        image.info["transparency"] = 0
        return image
    pixels = np.zeros((16, 16, len(ink) + 1), np.uint8)
    pixels[..., :-1] = canvas
    pixels[4:12, 7:9] = [*ink, 255]
    return Image.fromarray(pixels, mode)


@pytest.mark.parametrize(
    ("mode", "ink", "canvas", "channels"),
    [
        ("RGBA", (0, 0, 0), (0, 0, 0), 3),  # black ink, transparent black: was all black
        ("RGBA", (255, 255, 255), (255, 255, 255), 3),  # white ink, transparent white: was all white
        ("LA", (0,), (0,), 1),
        ("P", (0, 0, 0), (0, 0, 0), 3),  # palette with a transparent index
    ],
)
def test_strokes_on_a_transparent_canvas_stay_visible(tmp_path, mode, ink, canvas, channels):
    # Composited on the background that contrasts with the ink: dark ink on white, light ink on black.
    path = tmp_path / "stroke.png"
    save = {"transparency": 0} if mode == "P" else {}
    _stroke_image(mode, ink, canvas).save(path, **save)
    image = read_image(path, 16, "resize")
    stroke, ink_value = np.zeros((16, 16), bool), ink[0] / 255
    stroke[4:12, 7:9] = True
    assert image.shape == (channels, 16, 16)
    assert torch.equal(image[:, stroke], torch.full((channels, 16), ink_value))
    assert torch.equal(image[:, ~stroke], torch.full((channels, 240), 1 - ink_value))


def test_partly_transparent_pixels_are_blended_by_alpha(tmp_path):
    pixels = np.zeros((2, 2, 4), np.uint8)  # bottom row: fully transparent
    pixels[0, 0] = [255, 255, 255, 255]  # opaque white
    pixels[0, 1] = [255, 255, 255, 51]  # white at alpha 0.2
    Image.fromarray(pixels, "RGBA").save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png", 2, "resize")
    # What was drawn is white (alpha-weighted luma 1), so the background is black: 0.2 * 1 + 0.8 * 0 = 0.2.
    assert torch.allclose(image, torch.tensor([[1.0, 0.2], [0.0, 0.0]]).expand(3, 2, 2))


def test_mixed_sizes_and_modes_load_at_one_size(tmp_path):
    _save(tmp_path / "a.png", np.full((20, 30, 3), 200, np.uint8))
    _save(tmp_path / "b.png", np.full((8, 40), 100, np.uint8))
    Image.fromarray(np.full((10, 10), 65535, np.uint16)).save(tmp_path / "c.png")
    data = load_dataset(DataConfig(name="folder", path=str(tmp_path), size=8))
    assert data.images.shape == (3, 3, 8, 8)
    assert torch.allclose(data.images[2], torch.ones(3, 8, 8))  # the 16-bit white image is white


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


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"labels": [0, 1, np.nan, 1]}, r"'labels' holds 1 label\(s\) that are not whole.*\(the first: nan"),
        ({"labels": [0, 1, 1.5, 1]}, r"not whole numbers >= 0 \(the first: 1\.5\)"),
        ({"labels": [0, -1, 1, 1]}, r"not whole numbers >= 0 \(the first: -1"),
        ({"labels": [0, 1, 99_000, 1]}, r"runs up to 99000 with 3 distinct value\(s\).*0\.\.K-1.*at most 1000"),
        ({"labels": np.eye(4)}, r"'labels' has shape \(4, 4\).*argmax"),
        ({"labels": np.array(list("abcd"))}, r"'labels' has dtype <U1"),
        ({"images": np.full((4, 8, 8), np.nan, np.float32)}, r"'images' holds 256 NaN or inf value\(s\)"),
        ({"images": np.zeros((4, 8, 8), np.int64)}, r"'images' has dtype int64; store the images as uint8"),
        ({"images": np.zeros((4, 8, 8, 4), np.uint8)}, r"'images' has shape \(4, 8, 8, 4\); expected"),
        ({"images": np.zeros((0, 8, 8), np.uint8)}, r"'images' is empty"),
    ],
)
def test_npz_arrays_are_validated_before_use(tmp_path, arrays, message):
    # Unchecked, a NaN label crashed the conditional model and labels up to 99,000 built a 99k-class model.
    path = tmp_path / "data.npz"
    np.savez(path, **{"images": np.zeros((4, 8, 8), np.uint8), "labels": [0, 1, 2, 1]} | arrays)
    with pytest.raises(DataError, match=rf"data\.npz: array .*{message}"):
        load_dataset(DataConfig(name="npz", path=str(path), size=8))


def test_npz_labels_as_a_column_or_whole_floats_are_class_indices(tmp_path):
    np.savez(tmp_path / "a.npz", images=np.zeros((4, 8, 8), np.uint8), labels=np.array([[0.0], [2.0], [1.0], [2.0]]))
    data = load_dataset(DataConfig(name="npz", path=str(tmp_path / "a.npz"), size=8))
    assert data.labels.dtype == torch.int64 and data.labels.tolist() == [0, 2, 1, 2] and data.num_classes == 3
