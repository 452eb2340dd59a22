"""A trained generator on its own: a plain network and the few facts needed to use it, from a run or an export.

An exported generator is two files: ``model.safetensors`` (the weights, a format that holds tensors only) and
``config.json`` (data: the architecture by name with its settings, the latent size and prior, the sample shape and
classes). Loading rebuilds the network from genlab's own architecture registry and never unpickles anything, so a
downloaded model cannot run code.
"""

from __future__ import annotations

import json
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
from genlab.models import Recipe
from genlab.models.gan import generate
from genlab.nets import NETS
from genlab.nets.conditional import conditional_generator
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


def needs_package(module: object, package: str, what: str, install: str = INSTALL) -> None:
    """Raise a GenlabError saying how to install ``package`` when its import failed (``module`` is None)."""
    if module is None:
        raise GenlabError(f"{what} needs the {package} package, which is not installed: {install}")


@dataclass(frozen=True)
class GeneratorInfo:
    """What a generator maps and how it was made: the contents of an export's config.json."""

    arch: str
    """The architecture, a name in genlab's registry (dcgan, resnet, mlp, ...)."""
    settings: dict[str, Any]
    """The architecture's settings (model.generator of the run's config)."""
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
        data: dict[str, Any] = {"format": FORMAT, **asdict(self)}
        del data["extra"]
        if len(self.shape) == 3:
            data |= {"channels": self.shape[0], "image_size": self.shape[1]}
        return data


class LoadedGenerator(NamedTuple):
    net: nn.Module
    """The generator in eval mode: ``net(z)`` or, conditional, ``net(z, labels)`` -> samples in [-1, 1]."""
    info: GeneratorInfo


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is a folder that :func:`genlab.export.export_generator` wrote (it holds config.json)."""
    return (Path(path) / CONFIG_NAME).is_file()


def load_generator(path: str | Path, device: str = "cpu") -> LoadedGenerator:
    """The generator of an exported folder, a run folder (its latest checkpoint; the EMA copy when there is one)
    or a checkpoint file, with its metadata. Weights load from safetensors or with ``weights_only``: never
    unpickled."""
    if is_export(path):
        return _load_export(Path(path), resolve_device(device))
    return run_generator(open_run(path, device))


def run_generator(run: OpenRun, ema: bool = True) -> LoadedGenerator:
    """A GAN run's generator (its EMA copy when ``ema`` and the run kept one) and its metadata."""
    cfg, recipe = run.config, run.recipe
    if cfg.model.recipe != "gan":
        raise GenlabError(
            f"{run.checkpoint} holds a {cfg.model.recipe}; taking a generator out works for GAN runs (recipe gan)"
        )
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


def save_generator(folder: Path, generator: LoadedGenerator, weights: bool = True) -> None:
    """Write ``generator``'s config.json and (with ``weights``) model.safetensors into ``folder``."""
    write_json(folder / CONFIG_NAME, generator.info.as_json())
    if weights:
        needs_package(save_safetensors, "safetensors", "writing model.safetensors")
        tensors = {name: t.detach().cpu().contiguous() for name, t in generator.net.state_dict().items()}
        with atomic_write(folder / WEIGHTS_NAME) as handle:
            handle.write(save_safetensors(tensors, metadata={"format": "pt", "genlab": FORMAT}))


def read_info(path: Path) -> GeneratorInfo:
    """The metadata in an export's config.json; anything wrong with it is one ConfigError naming the file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as JSON ({one_line(exc)}); {FIX}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path} is not the config.json of a genlab export (expected format '{FORMAT}'); {FIX}")
    known = {k: v for k, v in data.items() if k in GeneratorInfo.__dataclass_fields__}
    extra = {k: v for k, v in data.items() if k not in known and k != "format"}
    try:
        return TypeAdapter(GeneratorInfo).validate_python({**known, "extra": extra})
    except ValidationError as exc:
        raise config_error(exc, str(path)) from None


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


def _load_export(folder: Path, device: torch.device) -> LoadedGenerator:
    config, weights = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    info = read_info(config)
    net = build_generator(info, config)
    needs_package(load_safetensors, "safetensors", "loading model.safetensors")
    if not weights.is_file():
        raise CheckpointError(f"{weights} does not exist: the export has no weights; {FIX} with format safetensors")
    try:
        tensors = load_safetensors(weights.read_bytes())
    except SafetensorError as exc:
        raise CheckpointError(
            f"{weights} cannot be loaded: it is truncated or not a safetensors file ({exc}); {FIX}"
        ) from None
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{weights} does not fit the network {config} describes ({one_line(exc)}); the two files come from "
            f"different exports or were edited: {FIX}"
        ) from None
    return LoadedGenerator(net.to(device).eval(), info)


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
        return ExportedGenerator(load_generator(path, device))
    return open_run(path, device).recipe
