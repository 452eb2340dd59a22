"""genlab export of autoencoder, VAE and CycleGAN runs (pix2pix: tests/models/test_pix2pix.py): every part loads,
encodes, decodes and translates as the run does, its ONNX and TorchScript files give PyTorch's outputs, and a damaged
config.json is explained."""

import json
import shutil

import numpy as np
import onnxruntime
import pytest
import torch

import genlab
from genlab.config import load_config
from genlab.data import DataConfig, load_dataset
from genlab.data.folder import save_images
from genlab.errors import GenlabError
from genlab.export import FORMATS, export_generator
from genlab.generators import CONFIG_NAME, load_export, load_generator
from genlab.models.perceptual import PerceptualConfig

from .conftest import TINY

CODER = {"width": 8}
VAE = {"recipe": "vae", "z_dim": 4, "coder": CODER}
AUTOENCODER = {"recipe": "autoencoder", "code_dim": 5, "coder": CODER, "loss": "bce"}  # decodes through a sigmoid
CYCLEGAN = {
    "recipe": "cyclegan",
    "domain_b": {"name": "digits", "size": 8, "half": "second", "style": "invert", "channels": 3},
    "generator": {"width": 8, "blocks": 1},
    "discriminator": {"width": 8, "layers": 1},
}


def exported_run(root, model, formats=FORMATS):
    """(run folder, export folder) of a tiny run of ``model`` on the 8 px digits, exported in ``formats``."""
    run = genlab.fit(load_config({**TINY, "model": model}), out=root / "run").run_dir
    export_generator(run, root / "export", formats)
    return run, root / "export"


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    return exported_run(tmp_path_factory.mktemp("vae"), VAE)


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory):
    return exported_run(tmp_path_factory.mktemp("autoencoder"), AUTOENCODER)


@pytest.fixture(scope="module")
def cyclegan(tmp_path_factory):
    return exported_run(tmp_path_factory.mktemp("cyclegan"), CYCLEGAN)


def session(folder, part):
    return onnxruntime.InferenceSession(str(folder / f"{part}.onnx"), providers=["CPUExecutionProvider"])


def test_a_vae_export_encodes_decodes_and_samples_as_the_run(vae):
    run, folder = vae
    names = {p.name for p in folder.iterdir()}
    assert names == {"config.json", "model.safetensors", "encoder.onnx", "encoder.pt", "decoder.onnx", "decoder.pt",
                     "samples.png", "README.md", "train-config.yaml"}  # fmt: skip
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert config["kind"] == "vae" and config["shape"] == [1, 8, 8] and config["model"]["z_dim"] == 4
    assert config["parts"]["encoder"] == {"inputs": {"images": [1, 8, 8]}, "outputs": {"mean": [4], "logvar": [4]}}
    assert config["parts"]["decoder"] == {"inputs": {"z": [4]}, "outputs": {"images": [1, 8, 8]}}
    own, export = genlab.load_run(run, "cpu"), load_export(folder)
    z, images = torch.randn(3, 4), torch.rand(6, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        assert torch.equal(export.recipe.decode(z), own.decode(z))
        assert torch.equal(export.parts["decoder"](z), own.decode(z))
        mean, logvar = export.parts["encoder"](images)
        assert torch.equal(mean, own.encode(images)) and torch.equal(logvar, own.posterior(images)[1])
    assert torch.equal(genlab.sample(folder, 5, seed=3, device="cpu"), genlab.sample(run, 5, seed=3, device="cpu"))
    for source in (folder, run):
        net, info = load_generator(source)
        assert info.z_dim == 4 and info.shape == (1, 8, 8) and info.arch == "conv" and info.step == 20
        with torch.no_grad():
            assert torch.equal(net(z), own.decode(z))
    card = (folder / "README.md").read_text()
    for needle in ("# tiny: a VAE", "z_dim = 4", "20 steps", "prefixes encoder., decoder.", "`decoder.onnx`",
                   "outputs mean, logvar", "samples.png"):  # fmt: skip
        assert needle in card


def test_a_vaes_onnx_and_torchscript_parts_give_pytorchs_outputs(vae):
    own, folder = genlab.load_run(vae[0], "cpu"), vae[1]
    z, images = torch.randn(3, 4), torch.rand(3, 1, 8, 8) * 2 - 1  # 3: neither the traced nor the checked batch
    with torch.no_grad():
        decoded, (mean, logvar) = own.decode(z), own.posterior(images)
    (onnx_decoded,) = session(folder, "decoder").run(None, {"z": z.numpy()})
    onnx_mean, onnx_logvar = session(folder, "encoder").run(None, {"images": images.numpy()})
    assert np.abs(onnx_decoded - decoded.numpy()).max() < 1e-5
    assert np.abs(onnx_mean - mean.numpy()).max() < 1e-5 and np.abs(onnx_logvar - logvar.numpy()).max() < 1e-5
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(folder / "decoder.pt"))(z), decoded, atol=1e-6)
        scripted_mean, scripted_logvar = torch.jit.load(str(folder / "encoder.pt"))(images)
    assert torch.allclose(scripted_mean, mean, atol=1e-6) and torch.allclose(scripted_logvar, logvar, atol=1e-6)


def test_an_autoencoder_export_encodes_and_decodes_as_the_run_and_takes_the_latent_tools(autoencoder, tmp_path):
    run, folder = autoencoder
    own, export = genlab.load_run(run, "cpu"), load_export(folder)
    z, images = torch.randn(3, 5), torch.rand(3, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        assert torch.equal(export.parts["decoder"](z), own.decode(z))
        assert torch.equal(export.parts["encoder"](images), own.encode(images))
        assert export.parts["decoder"](z).min() >= -1  # the bce autoencoder's sigmoid is part of the decoder
    (code,) = session(folder, "encoder").run(None, {"images": images.numpy()})
    assert code.shape == (3, 5) and np.abs(code - own.encode(images).numpy()).max() < 1e-5
    assert not (folder / "samples.png").exists()
    with pytest.raises(GenlabError, match="does not generate samples") as from_export:
        genlab.sample(folder, 2, device="cpu")
    with pytest.raises(GenlabError) as from_run:
        genlab.sample(run, 2, device="cpu")
    assert str(from_export.value) == str(from_run.value)
    traversed = genlab.traverse(folder, steps=3, device="cpu")
    assert traversed.path == folder / "latent" / "traverse.png"
    assert traversed.numbers == genlab.traverse(run, steps=3, device="cpu").numbers
    embedded = genlab.embed(folder, method="pca", n=50, device="cpu", out=tmp_path / "export.png")
    assert embedded.numbers == genlab.embed(run, method="pca", n=50, device="cpu", out=tmp_path / "run.png").numbers


def test_a_cyclegan_export_translates_as_the_run(cyclegan, tmp_path):
    run, folder = cyclegan
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert config["kind"] == "translator"
    assert config["parts"]["g_ab"] == {"inputs": {"images": [1, 8, 8]}, "outputs": {"translated": [3, 8, 8]}}
    (tmp_path / "in").mkdir()
    save_images(load_dataset(DataConfig(name="digits", size=8, split="test", limit=4)).images, tmp_path / "in")
    for direction in ("a2b", "b2a"):
        ours = genlab.translate(folder, tmp_path / "in", tmp_path / f"export-{direction}", direction=direction)
        theirs = genlab.translate(run, tmp_path / "in", tmp_path / f"run-{direction}", direction=direction)
        assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in theirs] and len(ours) == 4
    own, export = genlab.load_run(run, "cpu"), load_export(folder)
    images = torch.rand(3, 1, 8, 8) * 2 - 1
    translated = own.translate(images, "a2b")
    assert translated.shape == (3, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(export.parts["g_ab"](images), translated)
    (onnx_translated,) = session(folder, "g_ab").run(None, {"images": images.numpy()})
    assert np.abs(onnx_translated - translated.numpy()).max() < 1e-5
    b = torch.rand(2, 3, 8, 8) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(folder / "g_ba.pt"))(b), own.translate(b, "b2a"), atol=1e-6)
    for source in (folder, run):
        with pytest.raises(GenlabError, match=r"a translator has no generator of z \(its parts: g_ab, g_ba\)"):
            load_generator(source)


def _tamper(folder, change):
    data = json.loads((folder / CONFIG_NAME).read_text())
    change(data)
    (folder / CONFIG_NAME).write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(kind="vea"), "unknown kind 'vea' (did you mean 'vae'?); a genlab export is one of"),
        (lambda d: d["parts"].pop("encoder"), "lists no part encoder under 'parts': a vae export has the parts"),
        (lambda d: d["model"].update(z_dim=5), "does not fit the network"),
        (lambda d: d["model"]["coder"].update(arch="mpl"), "(model)): coder.arch: Input should be 'conv' or 'mlp'"),
    ],
    ids=["unknown-kind", "missing-part", "wrong-size", "bad-coder"],
)
def test_a_tampered_config_is_one_line_naming_the_file(vae, tmp_path, change, needle):
    folder = shutil.copytree(vae[1], tmp_path / "export")
    _tamper(folder, change)
    with pytest.raises(GenlabError) as caught:
        load_export(folder)
    message = str(caught.value)
    assert needle in message and str(folder) in message and "\n" not in message


def test_a_perceptual_autoencoder_loads_without_its_feature_network(tmp_path, monkeypatch):
    """The perceptual loss's classifier only trains: the export decodes as the run without it."""
    run, folder = exported_run(tmp_path, {**AUTOENCODER, "loss": "perceptual"}, ["safetensors"])
    own, z = genlab.load_run(run, "cpu"), torch.randn(3, 5)

    def unavailable(self, device):
        raise AssertionError("the export built the perceptual loss's feature network")

    monkeypatch.setattr(PerceptualConfig, "build", unavailable)
    with torch.no_grad():
        assert torch.equal(load_export(folder).parts["decoder"](z), own.decode(z))


def test_runs_without_a_model_to_take_out_are_refused(tmp_path):
    cfg = load_config("classifier-digits", ["train.steps=2", "train.progress=false", "device=cpu"])
    run = genlab.fit(cfg, out=tmp_path / "run").run_dir
    needle = "holds a classifier; exports take out the models of GAN, autoencoder, VAE, CycleGAN and pix2pix runs"
    with pytest.raises(GenlabError, match=needle):
        export_generator(run, tmp_path / "export", ["safetensors"])
    with pytest.raises(GenlabError, match=needle):
        load_generator(run)
    assert not (tmp_path / "export" / CONFIG_NAME).exists()
