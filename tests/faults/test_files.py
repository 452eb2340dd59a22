"""Every file genlab loads, damaged or hostile: checkpoints for every command that opens one, the classifier,
Inception and perceptual-loss weights, the reference cache. Each gives one ``genlab: error:`` line naming the file,
why it does not load and what to do; a file whose unpickling would run code is never executed.

The hostile checkpoint goes to one command per CLI handler in a subprocess; the full matrix of every command and
every damage runs through ``genlab.cli.main`` in this process, which costs no interpreter start-up (an exception
other than the command's clean exit fails the test there, as a traceback would)."""

from __future__ import annotations

import pickle
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from genlab.cli import main
from genlab.config import dump_config, load_config
from genlab.data import DataConfig, load_dataset
from genlab.errors import CheckpointError, ConfigError, DataError
from genlab.metrics.features import RawFeatures, load_classifier
from genlab.metrics.inception import load_inception
from genlab.metrics.reference import reference_features
from genlab.models.perceptual import PerceptualConfig
from genlab.train.checkpoint import FORMAT, load_checkpoint

from ..conftest import TINY
from .conftest import assert_clean_error

CPU = torch.device("cpu")
LATEST = "ckpt-00000020.pt"
EARLIER = "earlier checkpoint"


class Payload:
    """Unpickling this opens (creates) ``marker``: the code a checkpoint from an untrusted source could run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


DAMAGES = {
    "truncated": ("it is truncated or damaged", EARLIER),
    "empty": ("the file is empty", EARLIER),
    "random-bytes": ("it is not a PyTorch file", EARLIER),
    "payload-torch-save": ("it holds Python objects besides tensors", EARLIER),
    "payload-pickle": ("it is not a PyTorch file", EARLIER),
    "foreign": ("is not a genlab checkpoint", EARLIER),
    "no-recipe": ("has no recipe", EARLIER),
    "other-networks": ("does not match this model (RuntimeError: Error(s) in loading", "the run and config it belongs"),
}
"""How a checkpoint is damaged, and what the error line says about it: why, and what to do."""


def make_damaged(kind: str, good: Path, path: Path, marker: Path) -> Path:
    """Write a checkpoint damaged as ``kind`` (see DAMAGES) from the good checkpoint ``good``."""
    state = torch.load(good, weights_only=True)
    if kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "random-bytes":
        path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0)).byte().numpy())
    elif kind == "payload-torch-save":
        torch.save({**state, "extra": Payload(marker)}, path)
    elif kind == "payload-pickle":
        path.write_bytes(pickle.dumps({**state, "extra": Payload(marker)}))
    elif kind == "foreign":
        torch.save({"state_dict": state["recipe"]["networks"]["generator"]}, path)
    elif kind == "no-recipe":
        torch.save({k: v for k, v in state.items() if k != "recipe"}, path)
    elif kind == "other-networks":  # a valid checkpoint whose networks are not those its config builds
        wide = load_config(TINY, ["model.generator.width=16"]).model.build((1, 8, 8), 10, CPU)
        state["recipe"]["networks"] = wide.state_dict()["networks"]
        torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def files(trained_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of damaged checkpoints (KIND.pt), a copy of the trained run per kind whose latest checkpoint is
    damaged so (run-KIND), a folder of images to translate and the marker path a payload would create."""
    folder = tmp_path_factory.mktemp("files")
    good = trained_run / "checkpoints" / LATEST
    for kind in DAMAGES:
        make_damaged(kind, good, folder / f"{kind}.pt", folder / "PAYLOAD-RAN")
        shutil.copytree(trained_run, folder / f"run-{kind}")
        shutil.copyfile(folder / f"{kind}.pt", folder / f"run-{kind}" / "checkpoints" / LATEST)
    (folder / "images").mkdir()
    shutil.copy(next((trained_run / "samples").glob("*.png")), folder / "images" / "a.png")
    return folder


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))


def in_process(*args: str | Path) -> subprocess.CompletedProcess:
    """``genlab ARGS`` through :func:`genlab.cli.main` in this process; its exit status and output."""
    try:
        main([str(a) for a in args])
        status = 0
    except SystemExit as stop:
        status = stop.code
    return subprocess.CompletedProcess(args, status)


def ran(done: subprocess.CompletedProcess, capsys: pytest.CaptureFixture) -> subprocess.CompletedProcess:
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


COMMANDS: dict[str, Callable[[Path, Path], list[str | Path]]] = {
    "train --resume": lambda ckpt, run: ["train", "--resume", run, "--set", "train.steps=30"],
    "sample": lambda ckpt, run: ["sample", ckpt, "--n", "4"],
    "eval": lambda ckpt, run: ["eval", ckpt, "--metrics", "fid", "--n", "16", "--features", "raw"],
    "likelihood": lambda ckpt, run: ["likelihood", ckpt, "--k", "2", "--n", "4"],
    "translate": lambda ckpt, run: ["translate", ckpt, "--input", run.parent / "images", "--out", "translated"],
    "pretrain-finetune": lambda ckpt, run: ["pretrain-finetune", ckpt, "--n", "1", "--seeds", "0", "--steps", "1"],
    "interpolate": lambda ckpt, run: ["interpolate", ckpt, "--out", "walk.png"],
    "arithmetic": lambda ckpt, run: ["arithmetic", ckpt, "--a", "class=1", "--b", "class=2", "--c", "class=3"],
    "edit": lambda ckpt, run: ["edit", ckpt, "--to-class", "3", "--out", "edit.png"],
    "direction": lambda ckpt, run: ["direction", ckpt, "--positive", "ink=high", "--out", "direction.png"],
    "embed": lambda ckpt, run: ["embed", ckpt, "--out", "embed.png"],
    "traverse": lambda ckpt, run: ["traverse", ckpt, "--out", "traverse.png"],
    "ae-vs-vae": lambda ckpt, run: ["ae-vs-vae", ckpt, ckpt, "--out", "ae-vs-vae.png"],
}
"""Every command that opens a checkpoint, given one checkpoint file (or, resuming, a run folder)."""
HANDLERS = ("train --resume", "sample", "eval", "likelihood", "translate", "pretrain-finetune", "edit", "ae-vs-vae")
"""One command per handler of the CLI (the latent-space commands share one): these also run in a subprocess."""


def arguments(command: str, files: Path, kind: str) -> tuple[list[str | Path], str]:
    """The command's arguments for the damaged file of ``kind``, and the file name its error must name."""
    run = files / f"run-{kind}"
    if command == "train --resume":
        return COMMANDS[command](run / "checkpoints" / LATEST, run), LATEST
    return COMMANDS[command](files / f"{kind}.pt", run), f"{kind}.pt"


@pytest.mark.parametrize("command", HANDLERS)
def test_a_hostile_checkpoint_runs_no_code_from_the_command_line(cli, files, command):
    """The real CLI, given a checkpoint whose unpickling would create a file."""
    args, name = arguments(command, files, "payload-torch-save")
    done = cli(*args)
    assert_clean_error(done, name, "Python objects besides tensors", EARLIER)
    assert not (files / "PAYLOAD-RAN").exists()


@pytest.mark.parametrize("kind", DAMAGES)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_every_damaged_checkpoint(files, tmp_path, monkeypatch, capsys, command, kind):
    monkeypatch.chdir(tmp_path)
    args, name = arguments(command, files, kind)
    assert_clean_error(ran(in_process(*args), capsys), name, *DAMAGES[kind])
    assert not (files / "PAYLOAD-RAN").exists()


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ("likelihood", "the likelihood needs a VAE run"),
        ("translate", "translating needs a CycleGAN or pix2pix run"),
        ("pretrain-finetune", "pre-training needs an autoencoder run"),
        ("embed", "has no encoder"),
        ("ae-vs-vae", "compares an autoencoder run with a VAE run"),
    ],
)
def test_a_checkpoint_of_another_recipe_is_named_with_the_recipe_needed(
    trained_run, files, tmp_path, monkeypatch, capsys, command, needle
):
    monkeypatch.chdir(tmp_path)
    args = COMMANDS[command](trained_run / "checkpoints" / LATEST, files / "run-empty")
    assert_clean_error(ran(in_process(*args), capsys), needle)


def test_the_payload_is_live_when_loaded_unsafely(files, tmp_path):
    """The control: the hostile files do run code under a plain unpickling, so the tests above can fail."""
    marker = tmp_path / "ran"
    torch.save({"x": Payload(marker)}, tmp_path / "p.pt")
    torch.load(tmp_path / "p.pt", weights_only=False)
    assert marker.exists()
    marker.unlink()
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


WEIGHT_DAMAGES = ("truncated", "empty", "random-bytes", "payload-torch-save", "payload-pickle", "foreign")
WEIGHT_LOADERS = {
    "classifier": (load_classifier, CheckpointError, "genlab classifier train"),
    "inception": (load_inception, ConfigError, "Download it from"),
    "perceptual": (lambda file: PerceptualConfig(network=str(file)).build(CPU), CheckpointError, "classifier train"),
}
"""Loaders of weight files: the function, the error it raises and the fix it names."""


@pytest.mark.parametrize("kind", WEIGHT_DAMAGES)
@pytest.mark.parametrize("loader", WEIGHT_LOADERS)
def test_damaged_and_hostile_weight_files_are_explained(files, loader, kind):
    load, error, fix = WEIGHT_LOADERS[loader]
    with pytest.raises(error) as raised:
        load(files / f"{kind}.pt")
    message = str(raised.value)
    assert f"{kind}.pt" in message and fix in message and "\n" not in message
    reason = DAMAGES[kind][0] if kind != "foreign" else "not"
    assert reason in message and "weights_only" not in message
    assert not (files / "PAYLOAD-RAN").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["eval", "RUN", "--features", "PAYLOAD", "--metrics", "fid", "--n", "16"], "classifier weights file"),
        (["eval", "RUN", "--features", "inception", "--metrics", "fid", "--n", "16"], "Inception weights file"),
        (["train", "AE", "--out", "ae"], "classifier weights file"),
    ],
    ids=["eval --features FILE", "GENLAB_INCEPTION_WEIGHTS", "perceptual network"],
)
def test_hostile_weight_files_run_no_code_from_the_command_line(cli, files, trained_run, tmp_path, args, needle):
    payload = files / "payload-torch-save.pt"
    perceptual = {"recipe": "autoencoder", "code_dim": 4, "loss": "perceptual", "perceptual": {"network": str(payload)}}
    (tmp_path / "ae.yaml").write_text(dump_config(load_config({**TINY, "model": perceptual})))
    values = {"RUN": trained_run, "PAYLOAD": payload, "AE": tmp_path / "ae.yaml"}
    done = cli(*[values.get(a, a) for a in args], env={"GENLAB_INCEPTION_WEIGHTS": str(payload)})
    assert_clean_error(done, needle, "payload-torch-save.pt", "Python objects besides tensors")
    assert not (files / "PAYLOAD-RAN").exists()


@pytest.mark.parametrize("kind", ["truncated", "random-bytes", "payload-torch-save", "payload-pickle", "no-recipe"])
def test_a_damaged_reference_cache_entry_is_computed_again_with_a_warning(files, tmp_path, kind):
    data = load_config(TINY).data
    first = reference_features(data, 100, RawFeatures())
    (entry,) = (tmp_path / "cache" / "reference").iterdir()
    shutil.copyfile(files / f"{kind}.pt", entry)
    with pytest.warns(UserWarning, match=f"reference cache entry {re.escape(str(entry))}.*Computing it again"):
        again = reference_features(data, 100, RawFeatures())
    assert not again.cached and torch.equal(again.extracted.features, first.extracted.features)
    assert not (files / "PAYLOAD-RAN").exists()
    assert reference_features(data, 100, RawFeatures()).cached  # the entry was written anew


def test_checkpoints_read_by_the_labs_are_refused_the_same_way(files):
    """The mode-collapse lab reads its own run's checkpoints with load_checkpoint, the loader of every command."""
    with pytest.raises(CheckpointError, match="Python objects besides tensors"):
        load_checkpoint(files / "payload-torch-save.pt")
    assert not (files / "PAYLOAD-RAN").exists()
    assert load_checkpoint(files / "run-empty" / "checkpoints" / "ckpt-00000010.pt")["format"] == FORMAT


def test_hostile_data_and_config_files_run_no_code(tmp_path):
    """The other loaders that could unpickle or construct objects: .npz arrays and YAML configs."""
    marker = tmp_path / "PAYLOAD-RAN"
    npz = tmp_path / "images.npz"
    np.savez(npz, images=np.array([Payload(marker)], dtype=object))
    with pytest.raises(DataError, match=r"images\.npz"):
        load_dataset(DataConfig(name="npz", path=str(npz)))
    config = tmp_path / "hostile.yaml"
    config.write_text(f"name: x\nseed: !!python/object/apply:builtins.open ['{marker}', 'w']\n")
    with pytest.raises(ConfigError, match=r"hostile\.yaml is not valid YAML"):
        load_config(config)
    assert not marker.exists()
    yaml.unsafe_load(config.read_text())  # the control: both payloads are live
    assert marker.exists()
    marker.unlink()
    np.load(npz, allow_pickle=True)["images"]
    assert marker.exists()
