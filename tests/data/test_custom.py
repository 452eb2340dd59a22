"""A user's tensors and torch Datasets as image sets: ranges mapped to [-1, 1], labels kept, mistakes explained."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import Dataset

from genlab.data import DataConfig, load_dataset
from genlab.data.custom import as_image_set
from genlab.errors import DataError


class Pictures(Dataset):
    """PIL images with labels, as torchvision's data sets return them without a transform."""

    def __init__(self, pixels: np.ndarray, labels: list[int]):
        self.pixels, self.labels = pixels, labels

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int):
        return Image.fromarray(self.pixels[index]), self.labels[index]


def test_tensors_keep_their_values_or_map_their_range_to_minus_one_one():
    images = torch.rand(6, 3, 4, 4) * 2 - 1
    assert torch.equal(as_image_set(images).images, images)
    unit = as_image_set(torch.tensor([0.0, 0.25, 1.0]).view(3, 1, 1, 1), value_range=(0, 1)).images.flatten()
    assert unit.tolist() == [-1.0, -0.5, 1.0]
    bytes_ = as_image_set(torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)).images.flatten()
    assert bytes_.tolist() == [-1.0, 1.0]
    grey = as_image_set(torch.zeros(5, 8, 8), labels=[0, 1, 2, 1, 0])
    assert grey.shape == (1, 8, 8) and grey.num_classes == 3 and grey.name == "custom"
    points = torch.randn(7, 2) * 10  # vectors are the data's own coordinates: left as they are
    assert torch.equal(as_image_set(points).images, points)


def test_a_data_set_of_pil_images_and_labels_is_read_whole():
    pixels = np.random.default_rng(0).integers(0, 256, size=(4, 5, 5, 3), dtype=np.uint8)
    data = as_image_set(Pictures(pixels, [3, 1, 0, 3]))
    assert data.images.shape == (4, 3, 5, 5) and data.labels.tolist() == [3, 1, 0, 3]
    expected = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 127.5 - 1
    assert torch.allclose(data.images, expected)


def test_mistakes_say_what_is_wrong():
    with pytest.raises(DataError, match=r"values span \[0, 255\].*value_range=\(0, 1\)"):
        as_image_set(torch.tensor([0.0, 255.0]).view(2, 1, 1, 1))
    with pytest.raises(DataError, match="one non-negative integer label per sample"):
        as_image_set(torch.zeros(3, 1, 2, 2), labels=[0, 1])
    with pytest.raises(DataError, match="differ in shape"):
        as_image_set([torch.zeros(1, 2, 2), torch.zeros(1, 3, 3)])
    with pytest.raises(DataError, match="no length"):
        as_image_set(iter([torch.zeros(1, 2, 2)]))
    with pytest.raises(DataError, match=r"genlab.fit or genlab.resume with data="):
        load_dataset(DataConfig(name="custom"))
