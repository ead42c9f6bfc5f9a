"""Typed settings: frozen dataclass configs built from JSON and from ``key.sub=value`` assignments, every value
checked against the field's declared type and range.

A config class declares its limits with ``setting(default, ...)`` and calls ``check_fields(self)`` in its
``__post_init__``; ``from_dict`` and ``with_assignments`` then turn any wrong key, type or value into one
``ValueError`` line that names the setting, which the command line prints before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Iterable, TypeVar

T = TypeVar("T")


class SettingError(ValueError):
    """A setting's value is outside its limits; the message begins with the setting's name."""


def setting(default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING, ge: float | None = None,
            gt: float | None = None, le: float | None = None, choices: Iterable[Any] | None = None) -> Any:
    """A dataclass field with limits: ``ge`` / ``gt`` / ``le`` bound a number (None passes), ``choices`` lists
    the allowed values."""
    limits = {"ge": ge, "gt": gt, "le": le, "choices": tuple(choices) if choices is not None else None}
    return dataclasses.field(default=default, default_factory=factory, metadata={"limits": limits})


def check_fields(obj: Any) -> None:
    """Raise SettingError for the first field of ``obj`` outside the limits its ``setting`` declares."""
    for f in dataclasses.fields(obj):
        limits = f.metadata.get("limits")
        value = getattr(obj, f.name)
        if not limits or value is None:
            continue
        if limits["choices"] is not None and value not in limits["choices"]:
            raise SettingError(f"{f.name} must be one of {', '.join(map(str, limits['choices']))} (got {value!r})")
        for key, ok, words in (("ge", lambda v, b: v >= b, ">="), ("gt", lambda v, b: v > b, ">"),
                               ("le", lambda v, b: v <= b, "<=")):
            bound = limits[key]
            if bound is not None and not ok(value, bound):
                raise SettingError(f"{f.name} must be {words} {bound:g} (got {value!r})")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


def coerce(value: Any, tp: Any, name: str, base: Any = None) -> Any:
    """``value`` (a JSON value) as the declared type ``tp``; ValueError naming ``name`` if it is not one. A
    group of settings (a dataclass) takes the fields ``value`` omits from ``base`` if that is one, else from
    the defaults."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, name, base)
            except ValueError:
                pass
        raise ValueError(f"{name} must be {' or '.join(_type_name(o) for o in options)} (got {value!r})")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list (got {value!r})")
        elements = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(elements) != len(value):
            raise ValueError(f"{name} must have {len(elements)} values (got {len(value)})")
        return tuple(coerce(v, t, name) for v, t in zip(value, elements))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"{name} must be a group of settings (got {value!r})")
        return from_dict(tp, value, base if isinstance(base, tp) else None, prefix=f"{name}.")
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    else:
        raise TypeError(f"{name}: settings of type {tp!r} are not supported")
    raise ValueError(f"{name} must be {'a ' + _type_name(tp) if tp is not int else 'an int'} (got {value!r})")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def from_dict(cls: type[T], data: dict[str, Any], base: T | None = None, prefix: str = "") -> T:
    """An instance of ``cls`` from a (nested) dict of JSON values; fields missing from ``data`` come from
    ``base`` (or the defaults). ValueError names the first unknown, mistyped or out-of-range setting."""
    types_ = _field_types(cls)
    unknown = sorted(set(data) - set(types_))
    if unknown:
        raise ValueError(f"unknown setting {prefix}{unknown[0]} (known here: {', '.join(sorted(types_))})")
    values = {name: coerce(value, types_[name], prefix + name, getattr(base, name, None))
              for name, value in data.items()}
    try:
        return dataclasses.replace(base, **values) if base is not None else cls(**values)
    except SettingError as exc:  # names its field: give it its full name
        raise SettingError(f"{prefix}{exc}") from None
    except ValueError as exc:  # a check across fields: say which group of settings it is about
        raise ValueError(f"{prefix[:-1]}: {exc}" if prefix else str(exc)) from None


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """'tuning.lr=1e-3' -> (['tuning', 'lr'], 0.001). The value is read as JSON (numbers, true/false, null,
    lists), else taken as a plain string."""
    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path):
        raise ValueError(f"bad setting {text!r}: write KEY=VALUE, e.g. tuning.lr=1e-3")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw.strip()
    return path, value


def with_assignments(cfg: T, assignments: Iterable[str]) -> T:
    """``cfg`` with each 'key.sub=value' applied in order (see ``parse_assignment``)."""
    for text in assignments:
        path, value = parse_assignment(text)
        update: dict[str, Any] = {path[-1]: value}
        for key in reversed(path[:-1]):
            update = {key: update}
        cfg = from_dict(type(cfg), update, cfg)
    return cfg


def as_assignments(data: dict[str, Any], prefix: str = "") -> list[str]:
    """A (nested) dict of settings as 'key.sub=value' assignments (values as JSON), for ``with_assignments``."""
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += as_assignments(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={json.dumps(value)}")
    return out


def read_settings_file(path: Path, section: str | None = None) -> dict[str, Any]:
    """The settings held by a JSON file: the whole object, or its ``section`` where it has one (a result's
    config.json keeps the inversion settings under 'inversion')."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read settings file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object of settings")
    if section is not None and isinstance(data.get(section), dict):
        data = data[section]
    return data


def describe(cfg: Any) -> str:
    """The settings as indented JSON (what config files hold)."""
    return json.dumps(dataclasses.asdict(cfg), indent=2)
