"""Loading a trained generator on its own: from an export, a run folder or a checkpoint; damaged exports explained."""

import json
import shutil

import pytest
import torch

import genlab
from genlab.config import load_config
from genlab.errors import GenlabError
from genlab.export import export_generator
from genlab.generators import CONFIG_NAME, WEIGHTS_NAME, GeneratorInfo, load_generator

from .conftest import TINY


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(run folder, export folder) of a tiny GAN run with an EMA copy of G, exported as safetensors only."""
    root = tmp_path_factory.mktemp("generators")
    run = genlab.fit(load_config(TINY, ["model.tricks.ema={decay: 0.9}"]), out=root / "run").run_dir
    export_generator(run, root / "export", ["safetensors"])
    return run, root / "export"


def test_an_export_a_run_folder_and_a_checkpoint_load_the_same_ema_generator(exported):
    run, folder = exported
    z = torch.randn(5, 8)
    recipe = genlab.load_run(run, "cpu")
    expected = recipe.decode(z)
    (checkpoint,) = sorted((run / "checkpoints").iterdir())[-1:]
    for source in (folder, run, checkpoint):
        net, info = load_generator(source)
        assert isinstance(info, GeneratorInfo) and info.ema and info.z_dim == 8 and info.shape == (1, 8, 8)
        assert info.arch == "dcgan" and info.step == 20 and info.run == run.name and info.num_classes is None
        with torch.no_grad():
            assert torch.equal(net(z), expected)


def test_sample_of_an_export_equals_the_runs_samples_for_the_same_seed(exported):
    run, folder = exported
    assert torch.equal(genlab.sample(folder, 12, seed=4, device="cpu"), genlab.sample(run, 12, seed=4, device="cpu"))
    with pytest.raises(GenlabError, match="unconditional"):
        genlab.sample(folder, 2, label=3)


def _tamper_config(folder, change):
    data = json.loads((folder / CONFIG_NAME).read_text())
    change(data)
    (folder / CONFIG_NAME).write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("damage", "file", "needle"),
    [
        (lambda f: (f / CONFIG_NAME).write_text("{not json"), CONFIG_NAME, "cannot be read as JSON"),
        (lambda f: _tamper_config(f, lambda d: d.update(arch="dcgann")), CONFIG_NAME, "did you mean 'dcgan'"),
        (lambda f: _tamper_config(f, lambda d: d.update(z_dim=9)), WEIGHTS_NAME, "does not fit the network"),
        (lambda f: _tamper_config(f, lambda d: d.update(z_dim="many")), CONFIG_NAME, "z_dim"),
        (lambda f: _tamper_config(f, lambda d: d.pop("format")), CONFIG_NAME, "not the config.json of a genlab"),
        (lambda f: (f / WEIGHTS_NAME).write_bytes((f / WEIGHTS_NAME).read_bytes()[:-40]), WEIGHTS_NAME, "truncated"),
        (lambda f: (f / WEIGHTS_NAME).write_bytes(b"garbage" * 9), WEIGHTS_NAME, "not a safetensors file"),
        (lambda f: (f / WEIGHTS_NAME).unlink(), WEIGHTS_NAME, "does not exist"),
    ],
    ids=["bad-json", "unknown-arch", "wrong-z-dim", "bad-z-dim", "not-genlab", "truncated", "garbage", "missing"],
)
def test_a_damaged_export_is_one_line_naming_the_file(exported, tmp_path, damage, file, needle):
    folder = shutil.copytree(exported[1], tmp_path / "export")
    damage(folder)
    with pytest.raises(GenlabError) as caught:
        load_generator(folder)
    message = str(caught.value)
    assert needle in message and str(folder / file) in message and "\n" not in message


def test_an_export_without_kind_loads_as_a_generator(exported, tmp_path):
    """The first exports wrote no kind: they hold generators."""
    folder = shutil.copytree(exported[1], tmp_path / "export")
    assert json.loads((folder / CONFIG_NAME).read_text())["kind"] == "generator"
    _tamper_config(folder, lambda d: d.pop("kind"))
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.equal(load_generator(folder).net(z), load_generator(exported[1]).net(z))
