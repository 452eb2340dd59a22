"""A trained model on its own: plain networks and the few facts needed to use them, from a run or an export.

An export's weights are ``model.safetensors`` (a format that holds tensors only) and its facts ``config.json``
(data), whose ``kind`` says what it holds:

* ``generator`` (a GAN's; config.json without ``kind``, as the first exports wrote it, is one): the architecture by
  name with its settings, the latent size and prior, the sample shape and classes; the weights are the generator's
  own, unprefixed.
* ``autoencoder`` and ``vae``: the parts ``encoder`` (images -> code; a VAE's: the mean and log-variance of q(z|x))
  and ``decoder`` (z -> images in [-1, 1]);
* ``translator`` (a CycleGAN's): the parts ``g_ab`` (domain A -> B) and ``g_ba`` (B -> A): images in, translated
  images out;
* ``paired`` (a pix2pix run's): the part ``generator``, the U-Net: input images in, translated images out.

For these four config.json holds the run's model section (which rebuilds the networks), the sample shape and, per
part, its inputs and outputs by name with one item's shape; the weights of part P are stored under the prefix
``P.``. Loading rebuilds the networks from genlab's own registries and never unpickles anything, so a downloaded
model cannot run code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from pydantic import TypeAdapter, ValidationError
from torch import nn

from genlab import __version__
from genlab.config import Config, load_config
from genlab.errors import CheckpointError, ConfigError, GenlabError, one_line
from genlab.fileio import atomic_write, write_json
from genlab.models import RECIPES, Recipe
from genlab.models.autoencoder import AutoEncoderConfig
from genlab.models.cyclegan import CycleGAN
from genlab.models.gan import generate
from genlab.models.pix2pix import Pix2Pix
from genlab.nets import NETS
from genlab.nets.conditional import conditional_generator
from genlab.nets.translation import TranslatorSpec
from genlab.nets.unet import UNetSpec
from genlab.registry import did_you_mean
from genlab.runs import OpenRun, open_run
from genlab.schema import config_error, validate_section
from genlab.train import resolve_device

try:
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors
    from safetensors.torch import save as save_safetensors
except ImportError:  # the optional 'export' extra; needs_package() says how to install it
    load_safetensors = save_safetensors = None
    SafetensorError = OSError

FORMAT = "genlab-generator-1"
CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"
TRAIN_CONFIG_NAME = "train-config.yaml"
INSTALL = "pip install 'genlab[export]'"
FIX = "export the run again (genlab export RUN_DIR --out DIR)"
KINDS = {"gan": "generator", "autoencoder": "autoencoder", "vae": "vae", "cyclegan": "translator", "pix2pix": "paired"}
"""The kind of export of each recipe that exports."""
PARTS = {
    "autoencoder": ("encoder", "decoder"),
    "vae": ("encoder", "decoder"),
    "translator": ("g_ab", "g_ba"),
    "paired": ("generator",),
}
"""The parts of each kind of export but a generator (whose one part is its generator)."""


def needs_package(module: object, package: str, what: str, install: str = INSTALL) -> None:
    """Raise a GenlabError saying how to install ``package`` when its import failed (``module`` is None)."""
    if module is None:
        raise GenlabError(f"{what} needs the {package} package, which is not installed: {install}")


@dataclass(frozen=True)
class GeneratorInfo:
    """What a generator maps and how it was made: the contents of an export's config.json."""

    arch: str
    """The architecture, a name in genlab's registry (dcgan, resnet, mlp, ...); an autoencoder's or VAE's decoder:
    its coder's (conv, mlp)."""
    settings: dict[str, Any]
    """The architecture's settings (model.generator of the run's config; a decoder's: the run's model section)."""
    z_dim: int
    latent: str
    """The prior of z: normal (standard Gaussian) or uniform on [-1, 1]."""
    shape: tuple[int, ...]
    """One sample's shape: (C, H, W) for images, (D,) for vectors."""
    num_classes: int | None = None
    """Classes of a conditional generator, which takes (z, labels); None: it takes z alone."""
    run: str = ""
    """The name of the run folder it came from."""
    step: int = 0
    config_name: str = ""
    ema: bool = False
    """Whether these are the weights of the EMA copy of the generator."""
    value_range: tuple[float, float] = (-1.0, 1.0)
    genlab_version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)
    """Further entries of config.json (image size and channels, for readers other than genlab)."""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "kind": "generator", **asdict(self)}
        del data["extra"]
        if len(self.shape) == 3:
            data |= {"channels": self.shape[0], "image_size": self.shape[1]}
        return data


@dataclass(frozen=True)
class PartInfo:
    """What one part of an export maps: its inputs and outputs by name, each with one item's shape."""

    inputs: dict[str, tuple[int, ...]]
    outputs: dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class ModelInfo:
    """The config.json of an autoencoder, VAE, translator or paired translator export."""

    kind: str
    """autoencoder, vae, translator or paired."""
    model: dict[str, Any]
    """The run's model section: genlab's registries rebuild the parts' networks from it."""
    shape: tuple[int, ...]
    """One sample's shape (a translator's: of domain A; a paired translator's: of its input)."""
    parts: dict[str, PartInfo]
    run: str = ""
    step: int = 0
    config_name: str = ""
    value_range: tuple[float, float] = (-1.0, 1.0)
    genlab_version: str = __version__

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}


class Part(nn.Module):
    """One mapping of a model over one input (a decode, an encode) as a module of its own, which is what an export
    writes per part as ONNX and TorchScript; it holds ``net``, the network whose weights the mapping uses."""

    def __init__(self, mapping: Callable[[torch.Tensor], Any], net: nn.Module):
        super().__init__()
        self.net, self.mapping = net, mapping

    def forward(self, x: torch.Tensor) -> Any:
        return self.mapping(x)


class LoadedGenerator(NamedTuple):
    net: nn.Module
    """The generator in eval mode: ``net(z)`` or, conditional, ``net(z, labels)`` -> samples in [-1, 1]."""
    info: GeneratorInfo


class Export(NamedTuple):
    """Everything an export holds, loaded: its facts, its model as a recipe (the run's own class for an autoencoder
    or VAE, so it encodes, decodes and samples as the run does) and its parts by name (a generator's: "model")."""

    info: GeneratorInfo | ModelInfo
    recipe: Recipe
    parts: dict[str, nn.Module]


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is a folder that :func:`genlab.export.export_generator` wrote (it holds config.json)."""
    return (Path(path) / CONFIG_NAME).is_file()


def load_generator(path: str | Path, device: str = "cpu") -> LoadedGenerator:
    """The generator of z of an exported folder, a run folder (its latest checkpoint; the EMA copy when there is
    one) or a checkpoint file, with its metadata: a GAN's generator, an autoencoder's or VAE's decoder. Weights load
    from safetensors or with ``weights_only``: never unpickled."""
    if is_export(path):
        export = load_export(path, device)
        if isinstance(export.info, GeneratorInfo):
            return LoadedGenerator(export.parts["model"], export.info)
        return decoder_of(export.info, export.parts)
    return run_generator(open_run(path, device))


def run_generator(run: OpenRun, ema: bool = True) -> LoadedGenerator:
    """A run's generator of z and its metadata: a GAN's (its EMA copy when ``ema`` and the run kept one), an
    autoencoder's or VAE's decoder."""
    cfg, recipe = run.config, run.recipe
    if cfg.model.recipe != "gan":
        info = model_info(run)
        return decoder_of(info, model_parts(info.kind, recipe))
    spec = cfg.model.generator  # never custom: open_run cannot rebuild such a run
    use_ema = ema and "generator_ema" in recipe.networks
    info = GeneratorInfo(
        arch=spec.arch,
        settings=spec.model_dump(mode="json"),
        z_dim=cfg.model.z_dim,
        latent=cfg.model.latent,
        shape=tuple(run.state["data"]["shape"]),
        num_classes=recipe.num_classes,
        run=run.run_dir.name,
        step=run.state["step"],
        config_name=cfg.name,
        ema=use_ema,
    )
    return LoadedGenerator(recipe.networks["generator_ema" if use_ema else "generator"].eval(), info)


def model_info(run: OpenRun) -> ModelInfo:
    """The facts of an autoencoder, VAE, CycleGAN or pix2pix run's export; other runs are a GenlabError."""
    cfg, recipe, shape = run.config, run.recipe, tuple(run.state["data"]["shape"])
    kind = KINDS.get(cfg.model.recipe, "")
    if kind not in PARTS:
        raise GenlabError(
            f"{run.checkpoint} holds a {cfg.model.recipe}; exports take out the models of GAN, autoencoder, VAE, "
            "CycleGAN and pix2pix runs (model.recipe: gan, autoencoder, vae, cyclegan or pix2pix)"
        )
    if kind == "vae" and cfg.model.hierarchy is not None:
        raise GenlabError(
            f"{run.checkpoint} holds a two-layer VAE (model.hierarchy); exports take one-layer VAEs, whose decoder "
            "alone maps z to images; sample and evaluate this run with genlab sample and genlab likelihood"
        )
    if kind == "paired":
        shape = recipe.shape  # the data hold (input, target) stacks; the generator takes one input
        parts = {"generator": PartInfo({"images": shape}, {"translated": shape})}
    elif kind == "translator":
        other = (recipe.channels["b"], *shape[1:])
        parts = {
            "g_ab": PartInfo({"images": shape}, {"translated": other}),
            "g_ba": PartInfo({"images": other}, {"translated": shape}),
        }
    else:
        z = (cfg.model.z_dim if kind == "vae" else cfg.model.code_dim,)
        codes = {"mean": z, "logvar": z} if kind == "vae" else {"code": z}
        parts = {"encoder": PartInfo({"images": shape}, codes), "decoder": PartInfo({"z": z}, {"images": shape})}
    return ModelInfo(
        kind, cfg.model.model_dump(mode="json"), shape, parts, run.run_dir.name, run.state["step"], cfg.name
    )


def model_parts(kind: str, recipe: Recipe) -> dict[str, nn.Module]:
    """The parts of an autoencoder, VAE, CycleGAN or pix2pix ``recipe`` as modules, in eval mode: the decoder gives
    images as the recipe's ``decode`` does, a VAE's encoder the mean and log-variance of q(z|x)."""
    if kind == "paired":
        return {"generator": recipe.generator.eval()}
    if kind == "translator":
        return {"g_ab": recipe.g_ab.eval(), "g_ba": recipe.g_ba.eval()}
    encode = recipe.posterior if kind == "vae" else recipe.encode
    return {"encoder": Part(encode, recipe.encoder).eval(), "decoder": Part(recipe.decode, recipe.decoder).eval()}


def decoder_of(info: ModelInfo, parts: dict[str, nn.Module]) -> LoadedGenerator:
    """The decoder of an autoencoder or VAE as a generator of z, with its metadata; a translator has none."""
    if "decoder" not in parts:
        raise GenlabError(
            f"a {info.kind} has no generator of z (its parts: {', '.join(parts)}); load its parts with "
            "genlab.load_export(PATH)"
        )
    generator = GeneratorInfo(
        arch=info.model["coder"]["arch"],
        settings=info.model,
        z_dim=info.parts["decoder"].inputs["z"][0],
        latent="normal",
        shape=info.shape,
        run=info.run,
        step=info.step,
        config_name=info.config_name,
    )
    return LoadedGenerator(parts["decoder"], generator)


def save_generator(folder: Path, generator: LoadedGenerator, weights: bool = True) -> None:
    """Write ``generator``'s config.json and (with ``weights``) model.safetensors into ``folder``."""
    write_json(folder / CONFIG_NAME, generator.info.as_json())
    if weights:
        _save_weights(folder, generator.net.state_dict())


def save_model(folder: Path, info: ModelInfo, recipe: Recipe, weights: bool = True) -> None:
    """Write the config.json of an autoencoder, VAE or translator export and (with ``weights``) model.safetensors,
    each part's weights under its prefix."""
    write_json(folder / CONFIG_NAME, info.as_json())
    if weights:
        _save_weights(folder, {f"{p}.{k}": t for p in info.parts for k, t in recipe.networks[p].state_dict().items()})


def _save_weights(folder: Path, state: dict[str, torch.Tensor]) -> None:
    needs_package(save_safetensors, "safetensors", "writing model.safetensors")
    tensors = {name: t.detach().cpu().contiguous() for name, t in state.items()}
    with atomic_write(folder / WEIGHTS_NAME) as handle:
        handle.write(save_safetensors(tensors, metadata={"format": "pt", "genlab": FORMAT}))


def read_info(path: Path) -> GeneratorInfo | ModelInfo:
    """The facts in an export's config.json; anything wrong with it is one ConfigError naming the file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as JSON ({one_line(exc)}); {FIX}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path} is not the config.json of a genlab export (expected format '{FORMAT}'); {FIX}")
    kind = data.pop("kind", "generator")
    kinds = ("generator", *PARTS)
    if kind not in kinds:
        raise ConfigError(
            f"{path}: unknown kind {kind!r}{did_you_mean(str(kind), kinds)}; a genlab export is one of "
            f"{', '.join(kinds)}: {FIX}"
        )
    if kind != "generator":
        return _model_info(path, {**data, "kind": kind})
    known = {k: v for k, v in data.items() if k in GeneratorInfo.__dataclass_fields__}
    extra = {k: v for k, v in data.items() if k not in known and k != "format"}
    try:
        return TypeAdapter(GeneratorInfo).validate_python({**known, "extra": extra})
    except ValidationError as exc:
        raise config_error(exc, str(path)) from None


def _model_info(path: Path, data: dict[str, Any]) -> ModelInfo:
    known = {k: v for k, v in data.items() if k in ModelInfo.__dataclass_fields__}
    try:
        info = TypeAdapter(ModelInfo).validate_python(known)
    except ValidationError as exc:
        raise config_error(exc, str(path)) from None
    missing = [part for part in PARTS[info.kind] if part not in info.parts]
    if missing:
        raise ConfigError(
            f"{path} lists no part {', '.join(missing)} under 'parts': a {info.kind} export has the parts "
            f"{', '.join(PARTS[info.kind])}; {FIX}"
        )
    return info


def build_generator(info: GeneratorInfo, source: Path) -> nn.Module:
    """The untrained network ``info`` describes, built by genlab's architecture registry."""
    if info.arch not in NETS or info.arch == "custom":
        raise ConfigError(f"{source}: {NETS.unknown_message(info.arch)}; {FIX}")
    spec = validate_section(NETS.get(info.arch), {**info.settings, "arch": info.arch}, str(source))
    try:
        if info.num_classes is None:
            return spec.generator(info.z_dim, info.shape)
        return conditional_generator(spec, info.z_dim, info.shape, info.num_classes)
    except GenlabError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def build_model(info: ModelInfo, source: Path, device: torch.device) -> Recipe:
    """The untrained model ``info`` describes: an autoencoder or VAE rebuilt as the run's recipe, a translator as
    an :class:`ExportedTranslator`, a paired translator as an :class:`ExportedPix2Pix`."""
    if info.kind == "paired":
        spec = validate_section(UNetSpec, info.model.get("generator", {}), f"{source} (model.generator)")
        return ExportedPix2Pix(spec, info, device)
    if info.kind == "translator":
        spec = validate_section(TranslatorSpec, info.model.get("generator", {}), f"{source} (model.generator)")
        return ExportedTranslator(spec, info, device)
    model = validate_section(RECIPES.get(info.kind), info.model, f"{source} (model)")
    if isinstance(model, AutoEncoderConfig) and model.loss == "perceptual":
        # The perceptual loss's feature network only trains: its decoder's images are tanh's, as with mse.
        model = model.model_copy(update={"loss": "mse"})
    try:
        return model.build(info.shape, None, device)
    except GenlabError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_export(path: str | Path, device: str = "cpu") -> Export:
    """Every part of an exported folder, rebuilt from its config.json with the weights of its model.safetensors,
    and its model as a recipe (what ``genlab sample`` and the latent tools use)."""
    folder, target = Path(path), resolve_device(device)
    config = folder / CONFIG_NAME
    info = read_info(config)
    tensors = _read_weights(folder / WEIGHTS_NAME)
    if isinstance(info, GeneratorInfo):
        net = build_generator(info, config)
        _load_part(net, tensors, folder)
        generator = LoadedGenerator(net.to(target).eval(), info)
        return Export(info, ExportedGenerator(generator), {"model": generator.net})
    recipe = build_model(info, config, target)
    for part in PARTS[info.kind]:
        prefix = f"{part}."
        _load_part(
            recipe.networks[part], {k[len(prefix) :]: t for k, t in tensors.items() if k.startswith(prefix)}, folder
        )
    return Export(info, recipe, model_parts(info.kind, recipe))


def _read_weights(weights: Path) -> dict[str, torch.Tensor]:
    needs_package(load_safetensors, "safetensors", "loading model.safetensors")
    if not weights.is_file():
        raise CheckpointError(f"{weights} does not exist: the export has no weights; {FIX} with format safetensors")
    try:
        return load_safetensors(weights.read_bytes())
    except SafetensorError as exc:
        raise CheckpointError(
            f"{weights} cannot be loaded: it is truncated or not a safetensors file ({exc}); {FIX}"
        ) from None


def _load_part(net: nn.Module, tensors: dict[str, torch.Tensor], folder: Path) -> None:
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{folder / WEIGHTS_NAME} does not fit the network {folder / CONFIG_NAME} describes ({one_line(exc)}); "
            f"the two files come from different exports or were edited: {FIX}"
        ) from None


class ExportedGenerator(Recipe):
    """A loaded generator as a recipe that only samples, so ``genlab sample`` draws from it as from a run: the same
    seed gives the same latents, and so the same samples as the run it was exported from."""

    def __init__(self, generator: LoadedGenerator):
        net, info = generator
        self.networks, self.optimizers = {"generator": net}, {}
        self.device = next(net.parameters()).device
        self.z_dim, self.prior, self.num_classes = info.z_dim, info.latent, info.num_classes
        self.shape = info.shape

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return generate(
            self.networks["generator"], z.to(self.device), None if labels is None else labels.to(self.device)
        )


class ExportedTranslator(CycleGAN):
    """The two translators of a CycleGAN export as a CycleGAN that only translates (it has no discriminators and no
    domain-B data), so ``genlab translate`` takes the export as it takes the run."""

    def __init__(self, spec: TranslatorSpec, info: ModelInfo, device: torch.device):
        a, b = info.parts["g_ab"].inputs["images"], info.parts["g_ab"].outputs["translated"]
        self.device, self.shape, self.channels = device, a, {"a": a[0], "b": b[0]}
        self.g_ab = spec.build(a[0], b[0], a[-1]).to(device).eval()
        self.g_ba = spec.build(b[0], a[0], a[-1]).to(device).eval()
        self.networks, self.optimizers = {"g_ab": self.g_ab, "g_ba": self.g_ba}, {}


class ExportedPix2Pix(Pix2Pix):
    """The U-Net of a pix2pix export as a pix2pix that only translates (it has no discriminator), so ``genlab
    translate`` takes the export as it takes the run."""

    def __init__(self, spec: UNetSpec, info: ModelInfo, device: torch.device):
        shape = info.parts["generator"].inputs["images"]
        self.device, self.shape, self.channels, self.discriminator = device, shape, {"a": shape[0], "b": shape[0]}, None
        self.generator = spec.build(shape[0], shape[0], shape[-1]).to(device).eval()
        self.networks, self.optimizers = {"generator": self.generator}, {}


class OpenModel(NamedTuple):
    """A run or an export opened for the commands that use a trained model (sampling, the latent tools)."""

    source: Path
    """The file it was loaded from, named in messages: the run's checkpoint or the export's config.json."""
    folder: Path
    """The run or export folder: where figures go unless told otherwise (FOLDER/latent/)."""
    config: Config
    """The config that trained it (an export's train-config.yaml)."""
    shape: tuple[int, ...]
    """One sample's shape."""
    recipe: Recipe


def open_model(path: str | Path, device: str = "auto") -> OpenModel:
    """A run folder, a checkpoint or an export folder opened as one :class:`OpenModel`, so each command takes any
    of them: an export's model is the one the run's was (the same seed gives the same latents and samples)."""
    if not is_export(path):
        run = open_run(path, device)
        return OpenModel(run.checkpoint, run.run_dir, run.config, tuple(run.state["data"]["shape"]), run.recipe)
    folder = Path(path)
    train_config = folder / TRAIN_CONFIG_NAME
    if not train_config.is_file():
        raise ConfigError(f"{train_config} does not exist: it holds the training config this command needs; {FIX}")
    recipe = load_model(folder, device)
    return OpenModel(folder / CONFIG_NAME, folder, load_config(train_config), recipe.shape, recipe)


def load_model(path: str | Path, device: str = "auto") -> Recipe:
    """The trained model of a run folder, a checkpoint or an export, as a recipe ready to sample."""
    if is_export(path):
        return load_export(path, device).recipe
    return open_run(path, device).recipe
