import errno
import io
import os
import random

import numpy as np
import pytest
import torch

from genlab import fileio
from genlab.errors import CheckpointError
from genlab.train.checkpoint import (
    FORMAT,
    load_checkpoint,
    restore_recipe,
    rng_state,
    save_checkpoint,
    set_rng_state,
)


def test_round_trip_of_plain_containers(tmp_path):
    state = {"step": 3, "nets": {"w": torch.arange(4.0)}, "betas": (0.5, 0.9), "names": ["a"]}
    save_checkpoint(tmp_path / "c.pt", state)
    loaded = load_checkpoint(tmp_path / "c.pt")
    assert loaded["step"] == 3 and torch.equal(loaded["nets"]["w"], torch.arange(4.0))
    assert loaded["betas"] == (0.5, 0.9) and loaded["names"] == ["a"]


class FullDisk(io.RawIOBase):
    """A file on a full disk: every write fails as the operating system's does."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_an_oserror_naming_the_file_and_keeps_the_previous_one(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"step": 1})
    before = path.read_bytes()
    monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode: (os.close(fd), io.BufferedWriter(FullDisk()))[1])
    with pytest.raises(OSError) as error:
        save_checkpoint(path, {"step": 2, "w": torch.zeros(100_000)})
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


class Payload:
    """An arbitrary object: unpickling it could run code, so weights_only loading must refuse it."""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "cannot be loaded: the file is empty"),
        (b"garbage bytes", "cannot be loaded: it is not a PyTorch file"),
        ("truncated", "cannot be loaded: it is truncated or damaged"),
        ("pickled-object", "cannot be loaded: it holds Python objects besides tensors"),
        ("foreign", "not a genlab checkpoint"),
    ],
)
def test_damaged_or_foreign_files_raise_errors_naming_the_file_and_the_way_out(tmp_path, content, message):
    path = tmp_path / "c.pt"
    if content == "truncated":
        save_checkpoint(path, {"w": torch.randn(1000)})
        path.write_bytes(path.read_bytes()[:-500])
    elif content == "pickled-object":
        torch.save({"format": FORMAT, "x": Payload()}, path)
    elif content == "foreign":
        torch.save({"state_dict": {}}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(path)
    text = str(err.value)
    assert str(path) in text and "earlier checkpoint" in text and "\n" not in text
    assert "weights_only" not in text  # torch's own message advises loading the file unsafely


def test_a_checkpoint_without_what_the_caller_needs_is_named(tmp_path):
    save_checkpoint(tmp_path / "c.pt", {"step": 1})
    with pytest.raises(CheckpointError, match=r"c\.pt has no config, recipe: it was damaged"):
        load_checkpoint(tmp_path / "c.pt", needs=("step", "config", "recipe"))


def test_networks_of_another_shape_name_the_checkpoint_in_one_line(tmp_path, tiny_config):
    small = tiny_config().model.build((1, 8, 8), 10, torch.device("cpu"))
    wide = tiny_config("model.generator.width=16").model.build((1, 8, 8), 10, torch.device("cpu"))
    with pytest.raises(CheckpointError, match="does not match this model") as err:
        restore_recipe(small, {"recipe": wide.state_dict()}, tmp_path / "c.pt")
    text = str(err.value)
    assert str(tmp_path / "c.pt") in text and "size mismatch for" in text and "\n" not in text


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


def test_rng_states_survive_a_checkpoint(tmp_path):
    torch.manual_seed(1), random.seed(2), np.random.seed(3)
    save_checkpoint(tmp_path / "r.pt", {"rng": rng_state()})
    first = (torch.rand(3), random.random(), np.random.rand())
    set_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"])
    second = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(first[0], second[0]) and first[1:] == second[1:]
