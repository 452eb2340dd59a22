"""The run configuration: typed sections loaded from YAML, with ``--set a.b=value`` overrides.

    cfg = load_config("dcgan-digits", ["train.steps=500", "model.d_optim.lr=1e-4"])

A config source is a YAML file or the name of a preset shipped with genlab (``genlab presets`` lists them; the
repository's ``configs/`` folder holds the same files). Every key is checked: unknown keys suggest the nearest
valid one, values outside their range say which range is allowed.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import ValidationError, field_validator

from genlab.data import DataConfig
from genlab.errors import ConfigError
from genlab.models import RECIPES, ModelConfig
from genlab.models.gan import GANConfig
from genlab.schema import Range, Section, config_error, registered

PRESETS_DIR = Path(__file__).parent / "presets"


class TrainConfig(Section):
    """How long to train and how often to log, sample and checkpoint."""

    steps: Annotated[int, Range(ge=1)] = 2000
    """Training iterations (generator updates for GANs)."""
    batch_size: Annotated[int, Range(ge=1, le=65536)] = 64
    log_every: Annotated[int, Range(ge=1)] = 50
    """Steps between metric records; the only place values are copied off the device."""
    sample_every: Annotated[int, Range(ge=0)] = 500
    """Steps between sample grids of a fixed latent batch (0: only at the end)."""
    checkpoint_every: Annotated[int, Range(ge=0)] = 1000
    """Steps between checkpoints (0: only at the end). Ctrl-C and SIGTERM always save one."""
    keep_checkpoints: Annotated[int, Range(ge=1)] = 3
    n_samples: Annotated[int, Range(ge=1, le=1024)] = 64
    """Images in each sample grid."""
    progress: bool = True
    tensorboard: bool = True
    """Write TensorBoard events too (when the tensorboard package is installed)."""


class Config(Section):
    name: str = "run"
    """Names the run folder (runs/NAME-TIMESTAMP by default)."""
    seed: Annotated[int, Range(ge=0, le=2**63 - 1)] = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data: DataConfig = DataConfig()
    model: registered(ModelConfig, RECIPES, key="recipe") = GANConfig()
    train: TrainConfig = TrainConfig()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ValueError("must start with a letter or digit and use only letters, digits, '.', '_' and '-'")
        return name


def presets() -> list[str]:
    """Names of the ready configs shipped with genlab."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def read_yaml(source: str | Path) -> tuple[dict[str, Any], str]:
    """Read a config mapping from a YAML file or a preset name; returns it with a description of its origin."""
    path = Path(source)
    if not path.is_file():
        preset = PRESETS_DIR / f"{Path(str(source)).stem}.yaml"
        if str(source).endswith((".yaml", ".yml")) or not preset.is_file():
            raise ConfigError(f"config file {source} not found; ready configs: {', '.join(presets())}")
        path = preset
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings (key: value), not {type(data).__name__}")
    return data, str(path)


def apply_override(data: dict[str, Any], override: str) -> None:
    """Apply one ``dotted.key=value`` override in place; the value is parsed as YAML (``1e-4``, ``[1, 2]``)."""
    key, sep, text = override.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ConfigError(f"override '{override}' must look like section.key=value, e.g. train.steps=500")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"override '{override}': the value is not valid YAML ({exc})") from None
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(
                f"override '{override}': {where} is the value {child!r}, not a section; "
                f"set it whole instead, e.g. {where}={{name: {child}}}"
            )
        node = child
    node[parts[-1]] = value


def validate_config(data: dict[str, Any], source: str = "config") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, source) from None


def load_config(source: str | Path | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load and validate a config from a YAML file, a preset name or a mapping, applying ``overrides`` first."""
    if isinstance(source, dict):
        data, origin = copy.deepcopy(source), "config"
    else:
        data, origin = read_yaml(source)
    for override in overrides:
        apply_override(data, override)
    return validate_config(data, origin)


def dump_config(cfg: Config) -> str:
    """The fully resolved config as YAML (every default written out), as stored in a run folder."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
