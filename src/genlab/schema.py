"""Building blocks for self-validating configuration sections.

Every config section is a :class:`Section`: a frozen pydantic model that rejects unknown keys with the nearest valid
key, and whose numeric fields state their whole allowed range (:func:`Range`). Sections that come in several kinds
(objectives, network architectures, recipes) are chosen by a name key and validated by the class registered under
that name (:func:`registered`), so adding a kind touches only the file that defines it.
"""

from __future__ import annotations

import math
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from genlab.errors import ConfigError
from genlab.registry import Registry, did_you_mean


class Section(BaseModel):
    """A validated, immutable group of settings; unknown keys are errors that suggest the nearest valid key."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}; valid keys: {valid}",
                        {
                            "key": key,
                            "hint": did_you_mean(str(key), cls.model_fields),
                            "valid": ", ".join(cls.model_fields),
                        },
                    )
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """pydantic's lax mode reads true/false as 1/0, so ``train.steps: true`` would train one step."""
        if isinstance(value, bool) and _numeric(cls.model_fields[info.field_name].annotation):
            raise PydanticCustomError("bool_number", "must be a number, not true or false")
        return value


def _numeric(annotation: Any) -> bool:
    """Whether a field holds only numbers (int, float, a choice of numbers such as ``Literal[1, 3]``; or None)."""
    union = get_origin(annotation) in (Union, types.UnionType)
    options = [_bare(t) for t in (get_args(annotation) if union else (annotation,)) if t is not type(None)]
    return bool(options) and all(t in (int, float) or _number_choice(t) for t in options)


def _bare(annotation: Any) -> Any:
    """``int`` for ``Annotated[int, Range(...)]``."""
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _number_choice(annotation: Any) -> bool:
    return get_origin(annotation) is Literal and all(type(v) in (int, float) for v in get_args(annotation))


@dataclass(frozen=True)
class Interval:
    """The allowed values of a number, each bound optional; NaN lies in no interval."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def __contains__(self, value: float) -> bool:
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
            and not (isinstance(value, float) and math.isnan(value))
        )

    def __str__(self) -> str:
        """The interval as a message states it: ``in [0, 1)``, ``>= 1``, ``> 0``."""
        low = f"[{self.ge}" if self.ge is not None else f"({self.gt}" if self.gt is not None else None
        high = f"{self.le}]" if self.le is not None else f"{self.lt})" if self.lt is not None else None
        if low and high:
            return f"in {low}, {high}"
        if low:
            return (">= " if self.ge is not None else "> ") + low[1:]
        return ("<= " if self.le is not None else "< ") + high[:-1]


def Range(*, ge: float | None = None, gt: float | None = None, le: float | None = None, lt: float | None = None):
    """Validator for a number that must lie in an interval; its error states the whole interval.

    Used as ``steps: Annotated[int, Range(ge=1)] = 100``.
    """
    interval = Interval(ge=ge, gt=gt, le=le, lt=lt)

    def check(value: float) -> float:
        if value not in interval:
            raise ValueError(f"must be {interval}")
        return value

    return AfterValidator(check)


COUNT = Interval(ge=1)
"""How many images, steps, points ... a command makes: at least one."""
SEED = Interval(ge=0, le=2**32 - 1)
"""A command's seed. torch takes a negative seed as 2**64 plus it (seed -1 silently equals seed 2**64 - 1), and
NumPy and scikit-learn (t-SNE, PCA) take none above 2**32 - 1."""
POSITIVE = Interval(gt=0)
NONNEGATIVE = Interval(ge=0)


def check_arguments(**arguments: tuple[float | Sequence[float] | None, Interval]) -> None:
    """Refuse numeric arguments of an API function that lie outside their intervals or are not finite.

    Called as ``check_arguments(n=(n, COUNT), seed=(seed, SEED))`` at the top of the function, before any work, so
    Python callers and the command line (whose options carry the same names) get the same one-line
    :class:`ConfigError` naming the argument and its allowed values. ``None`` (an optional argument left unset)
    passes; every element of a list or tuple is checked.
    """
    for name, (value, interval) in arguments.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None:
                continue
            if not math.isfinite(item):
                raise ConfigError(f"{name} must be a finite number {interval}, got {item}")
            if item not in interval:
                raise ConfigError(f"{name} must be {interval}, got {item}")


def _power_of_two(value: int) -> int:
    if value < 1 or value & (value - 1):
        raise ValueError("must be a power of two (8, 16, 32, 64 ...)")
    return value


PowerOfTwo = AfterValidator(_power_of_two)

S = TypeVar("S", bound=Section)


@dataclass(frozen=True)
class Kinds:
    """What :func:`registered` records on its field: the ``registry`` that picks the section's class by the value of
    its ``key`` (``default`` when absent), so that config tools can follow a raw mapping through the schema."""

    registry: Registry
    key: str
    default: str

    def name_of(self, value: Any) -> Any:
        """The kind a raw value names: a shorthand string itself, a mapping's ``key``, else the default."""
        if isinstance(value, str):
            return value
        return value.get(self.key, self.default) if isinstance(value, dict) else self.default

    def section(self, value: Any) -> type[Section] | None:
        """The class of the kind ``value`` names (None for an unknown name: validation reports it)."""
        name = self.name_of(value)
        return self.registry.get(name) if isinstance(name, str) and name in self.registry else None


def registered(base: type[S], registry: Registry[type[S]], key: str = "name") -> Any:
    """Annotated type for a section whose class is chosen by ``registry`` from its ``key`` field.

    Accepts the bare name as a shorthand (``objective: nonsaturating``) and a mapping with parameters
    (``objective: {name: wgan-gp, gp_weight: 10}``); serialises with the chosen subclass's fields.
    """
    kinds = Kinds(registry, key, base.model_fields[key].default)

    def dispatch(value: Any) -> Any:
        if isinstance(value, base):
            return value
        if isinstance(value, str):
            value = {key: value}
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "section_type",
                "expected a {kind} name or a mapping with a '{key}' key",
                {"kind": registry.kind, "key": key},
            )
        name = kinds.name_of(value)
        if name not in registry:
            raise PydanticCustomError("unknown_name", "{message}", {"message": registry.unknown_message(str(name))})
        return registry.get(name).model_validate(value)

    return Annotated[SerializeAsAny[base], BeforeValidator(dispatch), kinds]


def subsection(section: type[BaseModel] | None, name: str, value: Any) -> tuple[type[BaseModel] | None, Kinds | None]:
    """The section class of field ``name`` of ``section`` holding the raw ``value``, and the field's :class:`Kinds`
    when :func:`registered` made it; None for a field that is unknown or holds no section."""
    field = section.model_fields.get(name) if section is not None else None
    if field is None:
        return None, None
    kinds = next((item for item in field.metadata if isinstance(item, Kinds)), None)
    if kinds is not None:
        return kinds.section(value), kinds
    classes = [t for t in (field.annotation, *get_args(field.annotation)) if isinstance(t, type)]
    return next((t for t in classes if issubclass(t, BaseModel)), None), None


def register_section(registry: Registry[type[S]], key: str = "name"):
    """Class decorator that registers a section under the default value of its ``key`` field."""

    def add(cls: type[S]) -> type[S]:
        return registry.register(cls.model_fields[key].default)(cls)

    return add


def config_error(err: ValidationError, source: str) -> ConfigError:
    """Turn a pydantic error into a :class:`ConfigError` naming each bad field: ``field.path: problem (got value)``,
    on the message's one line, or one indented line per issue when there are several."""
    lines = []
    for item in err.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "config"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] not in ("unknown_key", "missing", "unknown_name", "section_type", "replaced_key"):
            message += f" (got {item['input']!r})"
        lines.append(f"{where}: {message}")
    if len(lines) == 1:  # the usual case: one line, as every other error the command line prints
        return ConfigError(f"invalid config ({source}): {lines[0]}")
    return ConfigError(f"invalid config ({source}):\n" + "\n".join(f"  {line}" for line in lines))


def validate_section(section: type[S], data: dict[str, Any], source: str = "arguments") -> S:
    """Validate ``data`` as ``section``; errors become a :class:`ConfigError` naming each bad field."""
    try:
        return section.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, source) from None


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one mapping of dotted keys (``model.d_optim.lr``) to the values that are no mappings."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
