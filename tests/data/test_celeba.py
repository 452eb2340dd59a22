"""CelebA in the aligned-and-cropped layout, on a tiny fake copy in the official format."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genlab.data import DataConfig, load_dataset
from genlab.errors import DataError

NAMES = ("5_o_Clock_Shadow", "Smiling", "Young")
SMILING = (1, -1, 1, -1)


def write_celeba(root: Path, n: int = 4, attributes: str | None = None) -> Path:
    """``n`` 22x18 portraits (a bright centre square, dark top and bottom) and their attributes file."""
    (root / "img_align_celeba").mkdir(parents=True)
    for i in range(n):
        pixels = np.zeros((22, 18, 3), dtype=np.uint8)
        pixels[2:20] = (200, 120 + 20 * i, 40)
        Image.fromarray(pixels).save(root / "img_align_celeba" / f"{i + 1:06d}.jpg", quality=95)
    if attributes is None:
        rows = [f"{i + 1:06d}.jpg  -1 {SMILING[i % 4]:2d}  1" for i in range(n)]
        attributes = "\n".join([str(n), " ".join(NAMES), *rows]) + "\n"
    (root / "list_attr_celeba.txt").write_text(attributes)
    return root


def test_celeba_reads_the_portraits_cropped_to_their_centre_with_labels_from_an_attribute(tmp_path):
    write_celeba(tmp_path / "celeba")
    data = load_dataset(DataConfig(name="celeba", path=str(tmp_path), size=8, attribute="Smiling"))
    assert data.shape == (3, 8, 8) and data.labels.tolist() == [1, 0, 1, 0]
    assert data.class_names == ("not Smiling", "Smiling")
    red = (data.images[:, 0] + 1) / 2
    assert red.min() > 0.7  # crop kept the bright centre square; the dark rows above and below are gone
    assert load_dataset(DataConfig(name="celeba", path=str(tmp_path), size=8)).labels is None


def test_celeba_is_found_under_genlab_data(tmp_path, monkeypatch):
    write_celeba(tmp_path / "celeba", n=2)
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    assert len(load_dataset(DataConfig(name="celeba", size=8))) == 2


def test_a_missing_image_folder_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(DataError, match=r"no img_align_celeba/ folder in .*data.path"):
        load_dataset(DataConfig(name="celeba", path=str(tmp_path)))


def test_an_unknown_attribute_suggests_the_nearest(tmp_path):
    write_celeba(tmp_path)
    with pytest.raises(DataError, match="unknown attribute 'smiling' \\(did you mean 'Smiling'\\?\\)"):
        load_dataset(DataConfig(name="celeba", path=str(tmp_path), attribute="smiling"))


@pytest.mark.parametrize(
    ("attributes", "needle"),
    [
        ("Smiling\n", "should start with the image count"),
        ("3\n5_o_Clock_Shadow Smiling Young\n000001.jpg -1 1 1\n", "announces 3 images but lists 1"),
        ("1\n5_o_Clock_Shadow Smiling Young\n000001.jpg -1 0 1\n", "line 3: expected a file name and 3 values"),
        ("1\n5_o_Clock_Shadow Smiling Young\n000009.jpg -1 1 1\n", "1 image\\(s\\) have no line in .*000001.jpg"),
    ],
    ids=["no-count", "truncated", "bad-value", "image-not-listed"],
)
def test_a_bad_attributes_file_is_an_error_that_names_it(tmp_path, attributes, needle):
    write_celeba(tmp_path, n=1, attributes=attributes)
    with pytest.raises(DataError, match=needle):
        load_dataset(DataConfig(name="celeba", path=str(tmp_path), attribute="Smiling"))


def test_a_missing_attributes_file_is_an_error_only_when_an_attribute_is_asked_for(tmp_path):
    write_celeba(tmp_path, n=2)
    (tmp_path / "list_attr_celeba.txt").unlink()
    assert len(load_dataset(DataConfig(name="celeba", path=str(tmp_path), size=8))) == 2
    with pytest.raises(DataError, match=r"needs the attributes file .*list_attr_celeba.txt"):
        load_dataset(DataConfig(name="celeba", path=str(tmp_path), attribute="Smiling"))


def test_attribute_on_another_data_set_is_a_config_error():
    with pytest.raises(ValueError, match=r"data.attribute labels CelebA images"):
        DataConfig(name="digits", attribute="Smiling")


def test_celeba_splits_by_the_official_partition_file_when_it_is_there(tmp_path):
    root = write_celeba(tmp_path / "celeba", n=6)

    def names(split: str, **settings) -> list[int]:
        data = load_dataset(DataConfig(name="celeba", path=str(tmp_path), size=8, split=split, **settings))
        return data.labels.tolist() if "attribute" in settings else len(data)

    assert [names(s) for s in ("train", "test", "all")] == [6, 6, 6]  # no partition file: every image every split
    (root / "list_eval_partition.txt").write_text("".join(f"{i + 1:06d}.jpg {p}\n" for i, p in enumerate("020120")))
    assert [names(s) for s in ("train", "test", "all")] == [3, 2, 6]
    # the labels follow their images: 000002 and 000005 are the test images, Smiling on lines 2 and 5: -1, 1
    assert names("test", attribute="Smiling") == [0, 1] and names("train", attribute="Smiling") == [1, 1, 0]
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 7\n")
    with pytest.raises(DataError, match=r"line 2: expected a file name and 0 \(train\), 1 \(validation\) or 2"):
        load_dataset(DataConfig(name="celeba", path=str(tmp_path), size=8))
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    with pytest.raises(DataError, match=r"5 image\(s\) have no line in .*list_eval_partition.txt, e.g. 000002.jpg"):
        load_dataset(DataConfig(name="celeba", path=str(tmp_path), size=8, split="test"))
