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
from pydantic import ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from genlab.data import DataConfig
from genlab.errors import ConfigError
from genlab.fileio import atomic_write
from genlab.metrics import EvalConfig
from genlab.models import RECIPES, ModelConfig
from genlab.models.base import RunDefaults
from genlab.models.gan import GANConfig
from genlab.registry import did_you_mean
from genlab.schema import Range, Section, config_error, flatten, registered, subsection
from genlab.train.accel import AccelConfig
from genlab.train.doctor import DoctorConfig
from genlab.train.lr_decay import DecayKind
from genlab.train.rundir import RunDir
from genlab.train.sinks import DEFAULT_LOGGERS, JSONL, LOGGERS, MlflowConfig, TensorBoardSink, WandbConfig

PRESETS_DIR = Path(__file__).parent / "presets"
DEFAULT_EXAMPLE = "dcgan-digits"
"""The ready config that error messages suggest (bundled data, trains in about a minute)."""


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
    lr_decay: DecayKind = "none"
    """Decay every learning rate to 0 by the last step: none, linear or cosine."""
    lr_decay_start: Annotated[float, Range(ge=0, lt=1)] = 0.0
    """Fraction of train.steps before the decay begins."""
    n_samples: Annotated[int, Range(ge=1, le=1024)] = 64
    """Images in each sample grid (toy mixtures ring8, grid25 draw the 2,500 points of their mode statistics)."""
    progress: bool = True
    loggers: tuple[str, ...] = DEFAULT_LOGGERS
    """Where metrics, sample grids and the config go: jsonl (RUN/metrics.jsonl, always on: reports, the doctor and
    resume read it), tensorboard (RUN/tensorboard/), wandb (Weights & Biases; see train.wandb), mlflow (see
    train.mlflow)."""
    wandb: WandbConfig = WandbConfig()
    """W&B project, entity and mode: offline by default, writing RUN/wandb/."""
    mlflow: MlflowConfig = MlflowConfig()
    """MLflow tracking URI and experiment: by default a store in the run folder, RUN/mlflow.db."""
    report: bool = True
    """Write RUN_DIR/curves.png and RUN_DIR/report.html whenever a run stops (completed or not)."""

    @model_validator(mode="before")
    @classmethod
    def _tensorboard_switch(cls, data: Any) -> Any:
        """Configs and checkpoints of earlier genlab versions say ``tensorboard: true/false``, which train.loggers
        replaced: false takes tensorboard out of the loggers, true puts it in."""
        if not isinstance(data, dict) or "tensorboard" not in data:
            return data
        data = dict(data)
        switch = data.pop("tensorboard")
        if not isinstance(switch, bool):
            raise PydanticCustomError(
                "replaced_key",
                "tensorboard (now train.loggers) must be true or false, got {got}",
                {"got": repr(switch)},
            )
        loggers = data.get("loggers", DEFAULT_LOGGERS)
        if not isinstance(loggers, (list, tuple)):
            return data  # the field's own validation says what is wrong with it
        loggers = [name for name in loggers if name != TensorBoardSink.name]
        return data | {"loggers": [*loggers, TensorBoardSink.name] if switch else loggers}

    @field_validator("loggers")
    @classmethod
    def _known_loggers(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if name not in LOGGERS:
                raise ValueError(
                    f"unknown logger '{name}'{did_you_mean(name, LOGGERS)}; choose from {', '.join(LOGGERS)}"
                )
        if JSONL not in names:
            raise ValueError(
                f"must include {JSONL}: genlab report, the training doctor and --resume read RUN/metrics.jsonl; "
                f"add it, e.g. train.loggers=[{', '.join((JSONL, *names))}]"
            )
        if len(set(names)) < len(names):
            raise ValueError("names a logger twice; list each once")
        return names


class Config(Section):
    name: str = "run"
    """Names the run folder (runs/NAME-TIMESTAMP by default)."""
    seed: Annotated[int, Range(ge=0, le=2**63 - 1)] = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data: DataConfig = DataConfig()
    model: registered(ModelConfig, RECIPES, key="recipe") = GANConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    """Metrics for `genlab eval` and, with eval.every > 0, periodic evaluation during training."""
    doctor: DoctorConfig = DoctorConfig()
    """Live diagnosis of failing GAN training (D too strong, mode collapse, oscillation, D not learning)."""
    accel: AccelConfig = AccelConfig()
    """Speed switches that leave the computation unchanged: channels_last memory layout, bf16 autocast."""

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ValueError("must start with a letter or digit and use only letters, digits, '.', '_' and '-'")
        return name

    @model_validator(mode="after")
    def _model_fits_run(self) -> Config:
        self.model.check_batch_size(self.train.batch_size)
        if self.model.paired and self.data.pair == "none":
            raise ValueError(
                f"model.recipe {self.model.recipe} translates inputs into targets and needs paired data: set "
                "data.pair (edges, blur or mask derive the input from each image; inputs reads an npz's 'inputs')"
            )
        if self.data.pair != "none" and not self.model.paired:
            raise ValueError(
                f"data.pair stacks (input, target) pairs for paired translation; model.recipe {self.model.recipe} "
                "trains on single images: use recipe: pix2pix, or leave data.pair out"
            )
        completed = self.model.with_run_defaults(RunDefaults(self.train.batch_size, self.data, self.eval.features))
        return self if completed is self.model else self.model_copy(update={"model": completed})


def presets() -> list[str]:
    """Names of the ready configs shipped with genlab."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _find_config(source: str | Path, relative_to: Path | None = None) -> Path:
    """A YAML file (absolute, relative to ``relative_to``'s folder, or to the working folder) or a preset name."""
    candidates = [Path(source)]
    if relative_to is not None:
        candidates.insert(0, relative_to.parent / source)
    for path in candidates:
        if path.is_file():
            return path
    preset = PRESETS_DIR / f"{Path(str(source)).stem}.yaml"
    if str(source).endswith((".yaml", ".yml")) or not preset.is_file():
        hint = did_you_mean(Path(str(source)).stem, presets())
        raise ConfigError(
            f"config file {source} not found{hint}; `genlab config --list` shows the {len(presets())} ready configs"
        )
    return preset


KIND_KEYS = ("name", "arch", "recipe")
"""Keys that choose a section's kind: a section that switches kind starts afresh instead of merging."""


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated recursively with ``changes``: mappings merge key by key, anything else replaces.

    A mapping that names another kind (``objective: {name: hinge}`` over ``{name: wgan-gp, gp_weight: 10}``)
    replaces the base's mapping whole, since the old kind's parameters would not fit the new one.
    """
    merged = dict(base)
    for key, value in changes.items():
        old = merged.get(key)
        if (
            isinstance(value, dict)
            and isinstance(old, dict)
            and all(value.get(k, old.get(k)) == old.get(k) for k in KIND_KEYS)
        ):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(source: str | Path, _relative_to: Path | None = None, _seen: tuple[Path, ...] = ()) -> tuple[dict, str]:
    """Read a config mapping from a YAML file or a preset name; returns it with a description of its origin.

    A file may start from another with ``extends: NAME_OR_PATH`` and list only what differs; its keys are merged
    over the base's (recursively), so a family of configs shares one base instead of copies of it.
    """
    path = _find_config(source, _relative_to).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself ({' -> '.join(p.name for p in (*_seen, path))})")
    # Training with every default is `load_config({})` from Python; an empty file is a mistake (the wrong file, or
    # one not saved yet), which would otherwise train the default model on the default data.
    data = _read_mapping(
        path,
        f"write settings into it (`genlab config {DEFAULT_EXAMPLE} > {path.name}` writes a ready config to edit) or "
        f"train a ready config by name (`genlab train {DEFAULT_EXAMPLE}`; `genlab config --list` lists them)",
    )
    base = data.pop("extends", None)
    if base is not None:
        if not isinstance(base, str):
            raise ConfigError(f"{path}: 'extends' must name one config (a preset name or a YAML path)")
        data = merge(read_yaml(base, path, (*_seen, path))[0], data)
    return data, str(path)


def _read_mapping(path: Path, if_empty: str) -> dict[str, Any]:
    """The settings a YAML file holds; a file that cannot be read, decoded or parsed, holds nothing or no mapping is
    a :class:`ConfigError` naming it (``if_empty`` says what to do about an empty one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} on line {line}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        raise ConfigError(f"{path} is empty (or holds only comments): {if_empty}")
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings (key: value), not {type(data).__name__}")
    return data


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
    assign(data, key.strip(), value, f"override '{override}'")


def assign(data: dict[str, Any], key: str, value: Any, what: str | None = None) -> None:
    """Set the dotted ``key`` of the raw config mapping ``data`` to ``value`` in place (``what`` names the setting
    in errors; default: the key).

    The path follows the config's schema, so it goes through a kind's shorthand as through the mapping it stands
    for (``objective: minimax`` is ``{name: minimax}``), and setting a kind key to another kind starts that section
    afresh, as :func:`merge` does: the old kind's parameters would not fit the new one.
    """
    parts = key.split(".")
    node, section, kinds = data, Config, None
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        section, kinds = subsection(section, part, child)
        if child is None:  # absent or switched off (e.g. `ema: null`): setting a sub-key switches it on
            child = node[part] = {}
        elif isinstance(child, str) and kinds is not None:  # a kind's shorthand, e.g. `objective: minimax`
            child = node[part] = {kinds.key: child}
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(
                f"{what or key}: {where} is the value {child!r}, not a section; set it whole instead ({where}=VALUE)"
            )
        node = child
    if kinds is not None and parts[-1] == kinds.key and value != kinds.name_of(node):
        node.clear()  # another kind: its parameters start from its defaults
    node[parts[-1]] = value


def check_key(data: dict[str, Any], key: str, what: str) -> None:
    """Refuse a dotted ``key`` that names no setting of the config the raw mapping ``data`` describes, with a
    :class:`ConfigError` that starts with ``what`` and suggests the nearest key. A kind's parameters are keys when
    ``data`` chooses that kind (``model.objective.gp_weight`` under ``objective: wgan-gp``)."""
    parts = key.split(".")
    node: Any = data
    section: Any = Config
    for depth, part in enumerate(parts):
        fields = section.model_fields if section is not None else {}
        where = ".".join(parts[:depth])
        if section is None:
            raise ConfigError(f"{what}: {where} is a value, not a section; use {where} itself as the key")
        if part not in fields:
            raise ConfigError(
                f"{what}: '{part}' is not a key of {where or 'the config'}{did_you_mean(part, fields)}; valid keys: "
                f"{', '.join(fields)}"
            )
        child = node.get(part) if isinstance(node, dict) else None
        section, _ = subsection(section, part, child)
        node = child


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


RESUMABLE_SECTIONS = ("train", "doctor", "eval", "accel")
"""The config sections a resumed run may change: how long and how it trains, how it is watched and measured, the
speed switches. The networks, objective and data must match the checkpoint. ``eval`` reads the model and never
changes it, so a run whose evaluation cannot start (a classifier file moved, Inception weights elsewhere on another
machine) can be rescued; its eval/* curves before and after a change are then measured differently."""
RESUMABLE_KEYS = ("data.loader", "data.memory_gib", "data.workers")
"""Data settings a resumed run may change too: they choose how the images are read (in memory or streamed, by how
many workers), never which images or in what order, so the run continues exactly."""
_RESUMABLE = ", ".join([*(f"{name}.*" for name in RESUMABLE_SECTIONS), *RESUMABLE_KEYS])


def resumable(key: str) -> bool:
    """Whether a resumed run may change the setting ``key`` (dotted, e.g. ``train.steps``)."""
    return key.split(".", 1)[0] in RESUMABLE_SECTIONS or key in RESUMABLE_KEYS


def write_run_config(run: RunDir, cfg: Config) -> None:
    """Write RUN/config.yaml (atomically)."""
    with atomic_write(run.config_path, "w") as handle:
        handle.write(dump_config(cfg))


def read_run_config(run: RunDir, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """A run's config; on resume only the :data:`RESUMABLE_SECTIONS` and :data:`RESUMABLE_KEYS` may change."""
    data = _read_mapping(
        run.config_path,
        "genlab writes the run's settings there when training starts; undo the edit, or train a new run",
    )
    for override in overrides:
        if not resumable(override.split("=", 1)[0].strip()):
            raise ConfigError(
                f"cannot change '{override.split('=', 1)[0]}' when resuming: only {_RESUMABLE} settings can change "
                "(for example train.steps); start a new run to change the model or data"
            )
        apply_override(data, override)
    return validate_config(data, str(run.config_path))


def check_resumable(cfg: Config, trained: dict[str, Any], run: RunDir, checkpoint: Path) -> None:
    """Refuse a resume whose config differs, outside what :func:`resumable` allows, from ``trained``, the config
    stored in ``checkpoint``: an edit of RUN/config.yaml must not get around the rule that ``--set`` follows."""
    old = flatten(validate_config(trained, str(checkpoint)).model_dump(mode="json"))
    new = flatten(cfg.model_dump(mode="json"))
    changed = [
        f"{key}: {old.get(key, '(unset)')} → {new.get(key, '(unset)')}"
        for key in old | new
        if not resumable(key) and old.get(key) != new.get(key)
    ]
    if changed:
        shown = "; ".join(changed[:8]) + (f"; and {len(changed) - 8} more" if len(changed) > 8 else "")
        raise ConfigError(
            f"{run.config_path} differs from the config that {checkpoint.name} was trained with, in settings a resumed "
            f"run cannot change ({shown}); undo the edit to continue the run, or train a new run with these "
            f"settings. Resuming may change {_RESUMABLE} (also with --set)"
        )
