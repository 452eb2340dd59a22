"""The study file: which models to compare, over which search space, with what budget, ranked by which metric.

    base: dcgan-digits                      # a genlab config name or path (relative to the study file)
    overrides: {train.progress: false}      # dotted keys for every trial, as with --set
    models:                                 # named variants: dotted overrides, and an optional base of their own
      ns: {model.objective: nonsaturating}
      wgan-gp: {model.objective: wgan-gp, model.d_steps: 5}
    space:                                  # shared search space; spaces.MODEL entries replace the same keys
      model.d_optim.lr: {loguniform: [1.0e-5, 1.0e-2]}
    spaces:
      wgan-gp: {model.objective.gp_weight: {loguniform: [0.1, 100]}}
    samples: 10        # random settings per model (per grid point when the space has grid keys)
    seeds: 1           # seeds per setting
    rerun: {seeds: 5}  # phase 2: each model's best setting over 5 new seeds
    metric: fid
    mode: min
    steps: 2000        # train.steps of every trial
    eval_every: 500    # evaluation points during a trial (0: at its end only)
    resources: {cpus: 1, gpus: 0}
    scheduler: {name: asha, grace: 500}   # --backend ray only: stop phase-1 trials that trail (ASHA)

Every key of ``overrides``, ``models`` and the spaces is checked against the config schema of each model, and each
model's config is validated without its sampled values; a sampled value the config refuses fails only its trial.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genlab.config import PRESETS_DIR, Config, assign, check_key, read_yaml, validate_config
from genlab.errors import ConfigError
from genlab.metrics.evaluate import chosen_metrics
from genlab.registry import did_you_mean
from genlab.schema import SEED, Range, Section, config_error

STUDIES_DIR = PRESETS_DIR / "studies"
"""The ready study files (``configs/studies/`` in the repository)."""
KINDS = ("choice", "uniform", "loguniform", "int", "grid")
RANGES = ("uniform", "loguniform", "int")
METRIC_SOURCES = {
    "fid": "fid",
    "kid": "kid",
    "is": "is",
    "precision": "pr",
    "recall": "pr",
    "density": "dc",
    "coverage": "dc",
    "modes": "modes",
    "high_quality": "modes",
    "modes_kl": "modes",
    "nll": None,
}
"""The values a study can rank by, each with the ``eval.metrics`` entry that computes it (nll: a VAE's test-set
-log p(x), estimated by :func:`genlab.likelihood` when the trial has trained)."""
ALIASES = {"hq": "high_quality", "reverse_kl": "modes_kl"}
"""The 2-D lab's names for the mode statistics of the evaluation suite."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class Dimension(BaseModel):
    """One search dimension, written ``{KIND: VALUES}``: ``choice: [a, b]`` and ``grid: [a, b]`` list values (grid
    keys are crossed, the others drawn), ``uniform: [low, high]``, ``loguniform: [low, high]`` (uniform in log
    space, low > 0), ``int: [low, high]`` (both included)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["choice", "uniform", "loguniform", "int", "grid"]
    values: tuple[Any, ...]

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, Dimension):
            return data
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in KINDS:
            raise ValueError(
                "must be one of {choice: [a, b, ...]}, {grid: [a, b, ...]}, {uniform: [low, high]}, "
                "{loguniform: [low, high]}, {int: [low, high]}"
            )
        kind, values = next(iter(data.items()))
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"{kind} needs a non-empty list of values")
        return {"kind": kind, "values": tuple(values)}

    @model_validator(mode="after")
    def _bounds(self) -> Dimension:
        if self.kind not in RANGES:
            return self
        number = int if self.kind == "int" else (int, float)
        if len(self.values) != 2 or not all(isinstance(v, number) and not isinstance(v, bool) for v in self.values):
            what = "integers" if self.kind == "int" else "numbers"
            raise ValueError(f"{self.kind} takes [low, high], two {what} (got {list(self.values)})")
        low, high = self.values
        if not low < high if self.kind != "int" else not low <= high:
            raise ValueError(f"{self.kind}: low must be below high (got [{low}, {high}])")
        if self.kind == "loguniform" and low <= 0:
            raise ValueError(f"loguniform draws in log space: low must be > 0 (got {low})")
        return self


class Rerun(Section):
    seeds: Annotated[int, Range(ge=0)] = 0
    """Phase 2: each model's best setting (by the metric's mean over its seeds) over this many new seeds."""


class Resources(Section):
    cpus: Annotated[int, Range(ge=1)] = 1
    """CPU cores per trial: the local backend runs cores // cpus trials at a time unless --jobs says."""
    gpus: Annotated[float, Range(ge=0)] = 0
    """GPUs per trial, for cluster backends; the local backend trains on the device each config names."""


class Scheduler(Section):
    """Early stopping of phase-1 trials by Ray Tune's ASHA (Li et al. 2020, asynchronous successive halving): at
    rungs of ``grace * reduction**k`` training steps, a trial whose metric is not in the best 1/``reduction`` of
    the trials that reached that rung stops there."""

    name: Literal["asha"]
    grace: Annotated[int, Range(ge=1)] = 1
    """Training steps every trial runs before it may be stopped (the first rung)."""
    reduction: Annotated[float, Range(gt=1)] = 3
    """Each rung keeps the best 1/reduction of the trials."""


class StudySpec(Section):
    base: str
    """The config every model starts from: a ready config name or a YAML path (relative to the study file)."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Dotted keys set in every trial (``--set`` semantics), before each model's own."""
    models: dict[str, dict[str, Any]]
    """Named variants: dotted overrides, and ``base:`` for a model that starts from another config."""
    space: dict[str, Dimension] = Field(default_factory=dict)
    spaces: dict[str, dict[str, Dimension]] = Field(default_factory=dict)
    samples: Annotated[int, Range(ge=1)] = 1
    seeds: Annotated[int, Range(ge=1)] = 1
    rerun: Rerun = Rerun()
    metric: str = "fid"
    mode: Literal["min", "max"] = "min"
    steps: Annotated[int, Range(ge=1)] | None = None
    eval_every: Annotated[int, Range(ge=0)] = 0
    resources: Resources = Resources()
    scheduler: Scheduler | None = None
    """Early stopping (--backend ray); the rerun phase always trains every seed to the end."""
    seed: Annotated[int, Range(ge=SEED.ge, le=SEED.le)] = 0
    """Seeds the draws of the search space (with each model's name): the same file draws the same settings."""
    likelihood_k: Annotated[int, Range(ge=1)] = 100
    """metric nll: importance samples per test image."""
    likelihood_n: Annotated[int, Range(ge=1)] | None = 1000
    """metric nll: test images (null: all)."""

    @field_validator("models")
    @classmethod
    def _named(cls, models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if not models:
            raise ValueError("list at least one model, e.g. models: {ns: {model.objective: nonsaturating}}")
        for name in models:
            if not NAME.fullmatch(str(name)):
                raise ValueError(f"model name '{name}' must use only letters, digits, '.', '_' and '-'")
        return models

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        names = [*METRIC_SOURCES, *ALIASES]
        if metric not in names:
            raise ValueError(f"unknown metric '{metric}'{did_you_mean(metric, names)}; choose from {', '.join(names)}")
        return metric

    @model_validator(mode="after")
    def _spaces_name_models(self) -> StudySpec:
        for name in self.spaces:
            if name not in self.models:
                raise ValueError(
                    f"spaces.{name}: no such model{did_you_mean(name, self.models)}; models: {', '.join(self.models)}"
                )
        return self

    @property
    def value(self) -> str:
        """The evaluation value the metric names (aliases resolved)."""
        return ALIASES.get(self.metric, self.metric)


@dataclass(frozen=True)
class ModelPlan:
    """One model of a study: its validated raw config (base, overrides, the study's steps and evaluation points)
    and its search space."""

    name: str
    config: dict[str, Any]
    space: dict[str, Dimension]


@dataclass(frozen=True)
class Study:
    spec: StudySpec
    path: Path
    models: tuple[ModelPlan, ...]


def find_study(source: str | Path) -> Path:
    """A study file path, or the name of a ready study in ``configs/studies/``."""
    path = Path(source)
    if path.is_file():
        return path
    ready = STUDIES_DIR / f"{path.stem}.yaml"
    if str(source).endswith((".yaml", ".yml")) or not ready.is_file():
        names = sorted(p.stem for p in STUDIES_DIR.glob("*.yaml"))
        raise ConfigError(
            f"study file {source} not found{did_you_mean(path.stem, names)}; the ready studies are: {', '.join(names)}"
        )
    return ready


def load_study(source: str | Path) -> Study:
    """Read and check a study file (a path or a ready study's name): the spec, then every model's config."""
    path = find_study(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read study file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping (base:, models:, ...); see `genlab study run --help`")
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, str(path)) from None
    return Study(spec, path, tuple(_plan(spec, path, name, changes) for name, changes in spec.models.items()))


def _plan(spec: StudySpec, path: Path, name: str, changes: dict[str, Any]) -> ModelPlan:
    changes = dict(changes)
    base = changes.pop("base", spec.base)
    where = f"models.{name}.base" if "base" in spec.models[name] else "base"
    try:
        config = copy.deepcopy(read_yaml(base, path)[0])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {where}: {exc}") from None
    settings = [(f"overrides.{k}", k, v) for k, v in spec.overrides.items()]
    settings += [(f"models.{name}.{k}", k, v) for k, v in changes.items()]
    for what, key, value in settings:
        check_key(config, key, f"{path}: {what}")
        assign(config, key, value, f"{path}: {what}")
    train = config.setdefault("train", {})
    if spec.steps is not None:
        train["steps"] = spec.steps
    train["progress"] = False  # the study's progress bar stands for its trials'
    try:
        cfg = validate_config(config, f"{path}, model {name}")
    except ConfigError as exc:
        raise ConfigError(f"{exc}; fix models.{name}, overrides or base") from None
    source = METRIC_SOURCES[spec.value]
    if source is None and cfg.model.recipe != "vae":
        raise ConfigError(f"{path}: metric nll is a VAE's likelihood; model {name} is a {cfg.model.recipe}")
    config["eval"] = _evaluation(config.get("eval", {}), cfg, spec, source, f"{path}: metric")
    space = spec.space | spec.spaces.get(name, {})
    for key in space:
        check_key(config, key, f"{path}: {'spaces.' + name if key in spec.spaces.get(name, {}) else 'space'}.{key}")
    return ModelPlan(name, config, space)


def _evaluation(section: dict[str, Any], cfg: Config, spec: StudySpec, source: str | None, what: str) -> dict[str, Any]:
    """The trial's eval section: its metrics with the one that computes the study's metric, evaluated every
    ``eval_every`` steps (else once, at the end)."""
    metrics = list(cfg.eval.metrics)
    if source is not None and source not in metrics:
        metrics.append(source)
    try:
        chosen_metrics(tuple(metrics), cfg.data.name, cfg.eval.features)
    except ConfigError as exc:
        raise ConfigError(f"{what} {spec.metric}: {exc}") from None
    every = spec.eval_every or cfg.train.steps
    return {**section, "metrics": metrics, "every": every} if source is not None else {**section, "every": 0}
