import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from genlab.data import DataConfig, load_dataset
from genlab.data.mnist import download_mnist, read_idx
from genlab.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def fake_mnist(folder: Path, n: int = 12, gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)), gz=gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n) % 10, gz=gz)
    return folder


def test_shared_mnist_copy_parses_with_known_shapes_and_label_counts(mnist_dir):
    images = read_idx(mnist_dir / "train-images-idx3-ubyte.gz", 3)
    assert images.shape == (60_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(read_idx(mnist_dir / "train-labels-idx1-ubyte.gz", 1)).tolist() == TRAIN_COUNTS
    assert read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz", 3).shape == (10_000, 28, 28)
    assert np.bincount(read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", 1)).tolist() == TEST_COUNTS


def test_mnist_dataset_through_genlab_data_env(mnist_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(mnist_dir.parent))
    test = load_dataset(DataConfig(name="mnist", split="test", size=32))
    assert test.images.shape == (10_000, 1, 32, 32)
    assert test.labels.bincount().tolist() == TEST_COUNTS
    assert test.images.min() == -1 and test.images.max() == 1
    both = load_dataset(DataConfig(name="mnist", split="all", size=16, limit=100))
    assert both.images.shape == (100, 1, 16, 16)


def test_plain_and_gzipped_files_give_identical_images(tmp_path):
    plain = load_dataset(DataConfig(name="mnist", path=str(fake_mnist(tmp_path / "a")), size=28))
    gzipped = load_dataset(DataConfig(name="mnist", path=str(fake_mnist(tmp_path / "b", gz=True)), size=28))
    assert (plain.images == gzipped.images).all() and (plain.labels == gzipped.labels).all()
    raw = read_idx(tmp_path / "a" / "train-images-idx3-ubyte", 3)
    assert np.allclose((plain.images[:, 0].numpy() + 1) / 2 * 255, raw, atol=1e-3)


def test_missing_files_error_names_folders_and_exact_file_names(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(name="mnist"))
    message = str(err.value)
    assert str(tmp_path / "mnist") in message
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        assert name in message
    assert "data.download" in message


def test_bad_magic_number_names_the_file(tmp_path):
    folder = fake_mnist(tmp_path)
    bad = folder / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x01" + bad.read_bytes()[4:])  # claims 1-d data
    with pytest.raises(DataError, match="bad magic number") as err:
        load_dataset(DataConfig(name="mnist", path=str(folder)))
    assert str(bad) in str(err.value)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_names_the_file(tmp_path, gz):
    folder = fake_mnist(tmp_path, gz=gz)
    victim = folder / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(name="mnist", path=str(folder)))
    assert str(victim) in str(err.value)


def test_image_and_label_counts_must_agree(tmp_path):
    folder = fake_mnist(tmp_path)
    write_idx(folder / "train-labels-idx1-ubyte", np.arange(5))
    with pytest.raises(DataError, match=r"12 images but .* 5 labels"):
        load_dataset(DataConfig(name="mnist", path=str(folder)))


def test_opt_in_download_fetches_all_four_files(tmp_path):
    mirror = fake_mnist(tmp_path / "mirror", gz=True)
    target = tmp_path / "home" / "mnist"
    download_mnist(target, mirror=mirror.as_uri())
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in mirror.iterdir())
    assert not list(target.glob("*.tmp"))


def test_download_flag_used_only_when_files_are_missing(tmp_path, monkeypatch):
    mirror = fake_mnist(tmp_path / "mirror", gz=True)
    monkeypatch.setenv("GENLAB_MNIST_MIRROR", mirror.as_uri())
    data = load_dataset(DataConfig(name="mnist", path=str(tmp_path / "fresh"), download=True, size=8))
    assert len(data) == 12
    with pytest.raises(DataError, match="could not download"):
        download_mnist(tmp_path / "other", mirror=(tmp_path / "nowhere").as_uri())
    assert not (tmp_path / "other" / "train-images-idx3-ubyte.gz").exists()


def test_real_files_copied_elsewhere_are_found_through_data_path(mnist_dir, tmp_path):
    shutil.copy(mnist_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", tmp_path)
    data = load_dataset(DataConfig(name="mnist", path=str(tmp_path), split="test", size=28, limit=10))
    assert data.labels.tolist() == read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", 1)[:10].tolist()
