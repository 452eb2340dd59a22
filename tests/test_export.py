"""genlab export: a GAN run's generator as safetensors, ONNX and TorchScript with a model card, and --push."""

import json

import numpy as np
import onnxruntime
import pytest
import torch

import genlab
from genlab import export, generators
from genlab.cli import main
from genlab.config import load_config
from genlab.errors import GenlabError
from genlab.export import CHECK_BATCH, EXPORT_BATCH, check_matches, export_generator, generator_graph, write_onnx
from genlab.generators import GeneratorInfo, LoadedGenerator, build_generator, load_generator

from .conftest import TINY

EVAL = {"metrics": {"fid": 12.5}, "provenance": {"features": "pixels", "n_fake": 16, "real": "digits (train)"}}


def cli(capsys, *argv):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def conditional(tmp_path_factory):
    """(run folder, export folder) of a tiny conditional GAN run with an EMA copy of G and an eval.json, exported
    in every format."""
    root = tmp_path_factory.mktemp("export")
    cfg = load_config(TINY, ["model.condition=channels", "model.tricks.ema={decay: 0.9}"])
    run = genlab.fit(cfg, out=root / "run").run_dir
    (run / "eval.json").write_text(json.dumps(EVAL))
    export_generator(run, root / "export")
    return run, root / "export"


def test_export_writes_weights_graphs_samples_and_a_model_card(conditional):
    run, folder = conditional
    names = {p.name for p in folder.iterdir()}
    assert names == {"config.json", "model.safetensors", "model.onnx", "model.pt", "samples.png", "README.md",
                     "train-config.yaml"}  # fmt: skip
    config = json.loads((folder / "config.json").read_text())
    assert config["arch"] == "dcgan" and config["z_dim"] == 8 and config["image_size"] == 8 and config["channels"] == 1
    assert config["num_classes"] == 10 and config["value_range"] == [-1.0, 1.0] and config["ema"] is True
    assert config["genlab_version"] == genlab.__version__ and config["run"] == run.name and config["step"] == 20
    card = (folder / "README.md").read_text()
    for needle in ("20 steps", "digits", "config 'tiny'", "| fid | 12.5 |", "features: pixels", "n_fake: 16",
                   "digits (train)", "samples.png", "genlab train train-config.yaml", genlab.__version__):  # fmt: skip
        assert needle in card
    assert (
        genlab.load_config(str(folder / "train-config.yaml")).model_dump()
        == load_config(str(run / "config.yaml")).model_dump()
    )


def test_onnx_graph_equals_pytorch_at_another_batch_size(conditional):
    net, _ = load_generator(conditional[1])
    session = onnxruntime.InferenceSession(str(conditional[1] / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z", "labels"]
    z, labels = torch.randn(3, 8), torch.tensor([0, 7, 9])
    assert 3 not in (EXPORT_BATCH, CHECK_BATCH)
    (images,) = session.run(None, {"z": z.numpy(), "labels": labels.numpy()})
    with torch.no_grad():
        expected = net(z, labels).numpy()
    assert images.shape == (3, 1, 8, 8) and np.abs(images - expected).max() < 1e-5


def test_torchscript_equals_pytorch(conditional):
    net, _ = load_generator(conditional[1])
    scripted = torch.jit.load(str(conditional[1] / "model.pt"))
    z, labels = torch.randn(4, 8), torch.tensor([1, 2, 3, 4])
    with torch.no_grad():
        assert torch.allclose(scripted(z, labels), net(z, labels), atol=1e-6)


def test_a_graph_that_differs_from_pytorch_is_refused(conditional):
    generator = load_generator(conditional[1])
    graph = generator_graph(generator)
    assert check_matches(graph, generator.net, "ONNX") == 0
    with pytest.raises(GenlabError, match="ONNX graph's outputs differ from PyTorch's for the dcgan generator"):
        check_matches(graph, lambda z, labels: generator.net(z, labels) + 1e-3, "ONNX")


def test_cli_export_and_sample_give_the_runs_samples(capsys, conditional, tmp_path):
    run, _ = conditional
    code, out, err = cli(capsys, "export", run, "--out", tmp_path / "g", "--format", "safetensors", "--no-ema")
    assert code == 0, err
    assert "model.safetensors" in out and not (tmp_path / "g" / "model.onnx").exists()
    net, info = load_generator(tmp_path / "g")
    assert not info.ema
    recipe = genlab.load_run(run, "cpu")
    z, labels = torch.randn(3, 8), torch.tensor([4, 5, 6])
    with torch.no_grad():
        assert torch.equal(net(z, labels), recipe.generator.eval()(z, labels))
    code, _, err = cli(capsys, "sample", conditional[1], "--n", 6, "--seed", 2, "--out", tmp_path / "s.npz")
    assert code == 0, err
    with np.load(tmp_path / "s.npz") as saved:
        own = genlab.sample(run, 6, seed=2, device="cpu")
        assert np.allclose(saved["images"], (own.numpy() + 1) / 2, atol=1e-6) and saved["labels"].tolist() == [
            0,
            1,
            2,
            3,
            4,
            5,
        ]


def test_export_refuses_unknown_formats_and_folders_of_other_files(capsys, conditional, tmp_path):
    run, _ = conditional
    code, _, err = cli(capsys, "export", run, "--out", tmp_path / "g", "--format", "onnx,torchscrpt")
    assert code == 1 and "unknown export format torchscrpt (did you mean 'torchscript'?)" in err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = cli(capsys, "export", run, "--out", tmp_path / "mine", "--format", "safetensors")
    assert code == 1 and "holds other files" in err and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    export_generator(run, tmp_path / "again", ["safetensors", "torchscript"])
    (tmp_path / "again" / "notes.txt").write_text("keep me")
    export_generator(run, tmp_path / "again", ["safetensors"])  # an earlier export is replaced, the user's file kept
    names = sorted(p.name for p in (tmp_path / "again").iterdir())
    assert names == ["README.md", "config.json", "model.safetensors", "notes.txt", "samples.png", "train-config.yaml"]


def test_push_uploads_the_folder_with_huggingface_hub(conditional, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(export, "upload_folder", lambda **kwargs: calls.append(kwargs))
    result = export_generator(conditional[0], tmp_path / "g", ["safetensors"], push="me/tiny-gan")
    assert calls == [{"repo_id": "me/tiny-gan", "folder_path": str(result.folder), "repo_type": "model"}]
    monkeypatch.setattr(export, "upload_folder", None)
    with pytest.raises(GenlabError, match=r"huggingface_hub package, which is not installed: pip install"):
        export_generator(conditional[0], tmp_path / "h", ["safetensors"], push="me/tiny-gan")
    assert not (tmp_path / "h").exists()


def test_missing_optional_packages_say_how_to_install_them(conditional, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "onnxruntime", None)
    with pytest.raises(GenlabError, match=r"the onnx format needs .* not installed: pip install 'genlab\[export\]'"):
        export_generator(conditional[0], tmp_path / "g", ["onnx"])
    monkeypatch.setattr(generators, "save_safetensors", None)
    with pytest.raises(GenlabError, match=r"needs the safetensors package, .*: pip install 'genlab\[export\]'"):
        export_generator(conditional[0], tmp_path / "g", ["safetensors"])


def test_a_generator_of_vectors_exports_with_a_dynamic_batch(tmp_path):
    info = GeneratorInfo(arch="mlp", settings={"width": 8}, z_dim=3, latent="normal", shape=(2,))
    net = build_generator(info, tmp_path / "config.json").eval()  # its forward's argument is named 'input', not 'z'
    write_onnx(generator_graph(LoadedGenerator(net, info)), tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    z = torch.randn(7, 3)
    (points,) = session.run(None, {"z": z.numpy()})
    with torch.no_grad():
        assert points.shape == (7, 2) and np.abs(points - net(z).numpy()).max() < 1e-5


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """(run folder, export folder) of a tiny unconditional GAN run, exported as safetensors."""
    root = tmp_path_factory.mktemp("plain")
    run = genlab.fit(load_config(TINY), out=root / "run").run_dir
    export_generator(run, root / "export", ["safetensors"])
    return run, root / "export"


def test_latent_tools_on_an_export_give_the_runs_figures_and_numbers(capsys, plain, tmp_path):
    run, folder = plain
    code, out, err = cli(capsys, "interpolate", folder, "--steps", 4, "--rows", 2, "--device", "cpu")
    assert code == 0, err
    figure = folder / "latent" / "interpolate-slerp.png"
    assert str(figure) in out
    own = genlab.interpolate(run, steps=4, rows=2, device="cpu")
    assert own.path == run / "latent" / "interpolate-slerp.png"
    assert figure.read_bytes() == own.path.read_bytes()
    assert json.loads(figure.with_suffix(".json").read_text()) == own.numbers
    edited = genlab.edit(folder, 3, n=8, max_steps=3, device="cpu", out=tmp_path / "export-edit.png")
    own = genlab.edit(run, 3, n=8, max_steps=3, device="cpu", out=tmp_path / "run-edit.png")
    assert edited.numbers == own.numbers and edited.path.read_bytes() == own.path.read_bytes()
    (folder / "train-config.yaml").rename(tmp_path / "moved.yaml")
    try:
        code, _, err = cli(capsys, "interpolate", folder, "--device", "cpu")
    finally:
        (tmp_path / "moved.yaml").rename(folder / "train-config.yaml")
    assert code == 1 and f"{folder / 'train-config.yaml'} does not exist" in err and "genlab export" in err


def test_an_mnist_generator_round_trips_through_safetensors_onnx_and_torchscript(mnist_dir, tmp_path):
    """The issue's 'done when': a GAN trained on MNIST, exported, gives the run's samples from every format."""
    cfg = load_config(
        {**TINY, "data": {"name": "mnist", "size": 16, "limit": 256, "path": str(mnist_dir)}}, ["train.steps=4"]
    )
    run = genlab.fit(cfg, out=tmp_path / "run").run_dir
    folder = export_generator(run, tmp_path / "export").folder
    z = genlab.load_run(run, "cpu").latents(6, generator=torch.Generator().manual_seed(5))
    samples = genlab.sample(run, 6, seed=5, device="cpu")
    assert samples.shape == (6, 1, 16, 16) and samples.std() > 0
    net, info = load_generator(folder)
    assert info.shape == (1, 16, 16) and "mnist" in (folder / "train-config.yaml").read_text()
    with torch.no_grad():
        assert torch.equal(net(z), samples)
        assert torch.allclose(torch.jit.load(str(folder / "model.pt"))(z), samples, atol=1e-6)
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    (images,) = session.run(None, {"z": z.numpy()})
    assert np.abs(images - samples.numpy()).max() < 1e-5
    assert torch.equal(genlab.sample(folder, 6, seed=5, device="cpu"), samples)
