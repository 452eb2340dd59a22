import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from genlab.data import DataConfig, load_dataset
from genlab.data.cifar10 import ARCHIVE, BATCHES, CLASSES, FOLDER
from genlab.errors import DataError


class Python2Pickler(pickle._Pickler):
    """Writes pickles like the official CIFAR-10 files (cPickle, protocol 2): byte strings as Python 2 str."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_str(self, obj: bytes) -> None:
        size = len(obj)
        self.write(pickle.SHORT_BINSTRING + bytes([size]) if size < 256 else pickle.BINSTRING + struct.pack("<i", size))
        self.write(obj)
        self.memoize(obj)

    dispatch[bytes] = save_str


def batch_bytes(images: np.ndarray, labels: list[int]) -> bytes:
    """A batch as the official files hold it: numpy 1's module name for the array-rebuilding function included."""
    batch = {b"batch_label": b"a test batch", b"labels": labels, b"data": images.reshape(len(images), 3072)}
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(batch)
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batches(n: int = 4, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Images (n, 3, 32, 32) uint8 and labels for each of the six batches; batch k's labels start at k."""
    rng = np.random.default_rng(seed)
    names = [*BATCHES["train"], *BATCHES["test"]]
    return {
        name: (rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), [(k + i) % 10 for i in range(n)])
        for k, name in enumerate(names)
    }


def write_cifar10(root: Path, n: int = 4, *, archive: bool = False) -> dict[str, tuple[np.ndarray, list[int]]]:
    """The batches under root/cifar-10-batches-py, or packed as root/cifar-10-python.tar.gz; returns their contents."""
    batches = cifar_batches(n)
    root.mkdir(parents=True, exist_ok=True)
    if archive:
        with tarfile.open(root / ARCHIVE, "w:gz") as tar:
            for name, (images, labels) in batches.items():
                data = batch_bytes(images, labels)
                info = tarfile.TarInfo(f"{FOLDER}/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        (root / FOLDER).mkdir(exist_ok=True)
        for name, (images, labels) in batches.items():
            (root / FOLDER / name).write_bytes(batch_bytes(images, labels))
    return batches


@pytest.mark.parametrize("archive", [False, True])
def test_batches_and_archive_give_rgb_images_in_order_with_labels(tmp_path, archive):
    batches = write_cifar10(tmp_path, archive=archive)
    train = load_dataset(DataConfig(name="cifar10", path=str(tmp_path), size=32))
    assert train.images.shape == (20, 3, 32, 32) and train.class_names == CLASSES
    expected = np.concatenate([batches[name][0] for name in BATCHES["train"]])
    assert np.allclose((train.images.numpy() + 1) / 2 * 255, expected, atol=1e-3)
    first = batches["data_batch_1"][0]
    r, g, b = ((train.images[0, :, 5, 7] + 1) / 2 * 255).round().int().tolist()  # row 5, column 7
    assert (r, g, b) == (first[0, 0, 5, 7], first[0, 1, 5, 7], first[0, 2, 5, 7])
    assert train.labels.tolist() == [v for name in BATCHES["train"] for v in batches[name][1]]
    test = load_dataset(DataConfig(name="cifar10", path=str(tmp_path), split="test", size=16, channels=1, limit=3))
    assert test.images.shape == (3, 1, 16, 16) and test.labels.tolist() == batches["test_batch"][1][:3]


def test_the_official_pixel_order_is_red_green_blue_planes_row_major(tmp_path):
    images = np.zeros((1, 3, 32, 32), dtype=np.uint8)
    (tmp_path / FOLDER).mkdir()
    flat = images.reshape(1, 3072)
    flat[0, 0], flat[0, 1024 + 1], flat[0, 2048 + 32] = 255, 255, 255  # R at (0,0), G at (0,1), B at (1,0)
    for name in (*BATCHES["train"], *BATCHES["test"]):
        (tmp_path / FOLDER / name).write_bytes(batch_bytes(images, [3]))
    image = (load_dataset(DataConfig(name="cifar10", path=str(tmp_path), size=32)).images[0] + 1) / 2
    assert image[:, 0, 0].tolist() == [1, 0, 0] and image[:, 0, 1].tolist() == [0, 1, 0]
    assert image[:, 1, 0].tolist() == [0, 0, 1] and image.sum() == 3


def test_found_through_genlab_data_with_all_split(tmp_path, monkeypatch):
    write_cifar10(tmp_path / "cifar10", archive=True)
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    both = load_dataset(DataConfig(name="cifar10", split="all", size=32))
    assert len(both) == 24 and both.labels[-4:].tolist() == [5, 6, 7, 8]


def test_missing_files_error_names_the_folders_and_the_file_names(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(name="cifar10"))
    message = str(err.value)
    for needle in (str(tmp_path / "cifar10"), ARCHIVE, FOLDER, "data_batch_1", "test_batch", "data.download"):
        assert needle in message


def test_a_missing_batch_is_named(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / FOLDER / "data_batch_5").unlink()
    assert len(load_dataset(DataConfig(name="cifar10", path=str(tmp_path), split="test"))) == 4
    with pytest.raises(DataError, match="data_batch_5 is missing") as err:
        load_dataset(DataConfig(name="cifar10", path=str(tmp_path)))
    assert str(tmp_path / FOLDER / "data_batch_5") in str(err.value)


@pytest.mark.parametrize("archive", [False, True])
def test_truncated_file_is_named(tmp_path, archive):
    write_cifar10(tmp_path, archive=archive)
    victim = tmp_path / ARCHIVE if archive else tmp_path / FOLDER / "data_batch_3"
    victim.write_bytes(victim.read_bytes()[:-500])
    with pytest.raises(DataError, match="truncated") as err:
        load_dataset(DataConfig(name="cifar10", path=str(tmp_path)))
    assert str(victim) in str(err.value)


def test_wrong_contents_are_named(tmp_path):
    write_cifar10(tmp_path)
    victim = tmp_path / FOLDER / "test_batch"
    victim.write_bytes(batch_bytes(np.zeros((2, 3, 32, 32), np.uint8), [0]))
    with pytest.raises(DataError, match="2 integer labels") as err:
        load_dataset(DataConfig(name="cifar10", path=str(tmp_path), split="test"))
    assert str(victim) in str(err.value)


class Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("python2", [True, False])
def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path, python2):
    write_cifar10(tmp_path)
    marker = tmp_path / "ran"
    victim = tmp_path / FOLDER / "data_batch_2"
    buffer = io.BytesIO()
    pickler = Python2Pickler(buffer, protocol=2) if python2 else pickle.Pickler(buffer, protocol=5)
    pickler.dump({b"data": Payload(marker), b"labels": []})
    victim.write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match="refused") as err:
        load_dataset(DataConfig(name="cifar10", path=str(tmp_path)))
    assert str(victim) in str(err.value) and f"{os.system.__module__}.system" in str(err.value)
    assert not marker.exists()


def test_opt_in_download_fetches_the_archive_once(tmp_path, monkeypatch):
    write_cifar10(tmp_path / "mirror", archive=True)
    monkeypatch.setenv("GENLAB_CIFAR10_MIRROR", (tmp_path / "mirror").as_uri())
    target = tmp_path / "home"
    data = load_dataset(DataConfig(name="cifar10", path=str(target), download=True, split="test"))
    assert len(data) == 4 and (target / ARCHIVE).is_file() and not list(target.glob("*.tmp"))
    monkeypatch.setenv("GENLAB_CIFAR10_MIRROR", (tmp_path / "nowhere").as_uri())
    assert len(load_dataset(DataConfig(name="cifar10", path=str(target), download=True, split="test"))) == 4
    with pytest.raises(DataError, match="could not download"):
        load_dataset(DataConfig(name="cifar10", path=str(tmp_path / "other"), download=True))
