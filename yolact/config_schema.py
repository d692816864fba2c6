"""Turn plain YAML mappings into nested frozen dataclasses, strictly.

Unknown keys, wrong types and failed checks all raise ``ConfigError`` naming the full
dotted key (``backbone.layers``), so a typo in a YAML file is found at load time, not
as a shape error deep inside a run. Supported field types: bool, int, float, str,
``tuple[X, ...]`` of those, ``X | None``, nested dataclasses and ``ConfigEnum`` choices
(given by their value: ``nms: fast``).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from yolact.errors import ConfigError, InputNotFoundError

T = TypeVar("T")


class ConfigEnum(str, enum.Enum):
    """A closed set of choices written as text in YAML and JSON (``"fast"``): compares equal
    to its value and prints as it, so reports and messages read as the config does."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: Any, key: str):
        """The member with this value; ConfigError naming ``key`` and the choices if none."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise ConfigError(f"{key}: must be one of {choices}, got {value!r}") from None


def require(condition: bool, key: str, message: str) -> None:
    """Raise ConfigError("<key>: <message>") unless condition holds (for __post_init__)."""
    if not condition:
        raise ConfigError(f"{key}: {message}")


def build_dataclass(cls: type[T], data: Any, where: str = "") -> T:
    """Build ``cls`` from a mapping, converting lists to tuples and checking every key.

    Args:
        cls: a dataclass type whose fields carry type annotations.
        data: the mapping read from YAML (or JSON).
        where: dotted prefix for error messages ("" at the top level).
    """
    label = where or "config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{label}: expected a mapping of keys, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    unknown = [key for key in data if key not in fields]
    if unknown:
        raise ConfigError(
            f"{_join(where, str(unknown[0]))}: unknown key; known keys here: {', '.join(fields)}"
        )
    kwargs = {}
    for name, field in fields.items():
        key = _join(where, name)
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], key)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{key}: required key is missing")
    try:
        return cls(**kwargs)
    except ConfigError as error:
        if where and not str(error).startswith(where + "."):
            raise ConfigError(f"{where}.{error}") from None
        raise


def to_plain(value: Any) -> Any:
    """Dataclasses/tuples → dicts/lists, for JSON or YAML output (inverse of build)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def load_yaml_file(path: str | Path) -> Any:
    """Read a YAML file with ``safe_load``; a syntax error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"config file not found: {path}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{where}: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; expected YAML") from None


def preset_files(folder: str) -> dict[str, Path]:
    """The presets shipped in ``configs/<folder>/``: name → file."""
    import importlib.resources

    root = importlib.resources.files("configs") / folder
    return {
        entry.name.removesuffix(".yaml"): Path(str(entry))
        for entry in sorted(root.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".yaml")
    }


def load_preset_yaml(folder: str, name_or_path: str | Path, *, kind: str) -> Any:
    """A YAML file's content: a path (``*.yaml`` or containing ``/``), or the name of a
    preset in ``configs/<folder>/``; an unknown name lists the available ones."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        return load_yaml_file(text)
    presets = preset_files(folder)
    if text not in presets:
        raise ConfigError(
            f"unknown {kind} preset {text!r}; available: {', '.join(presets)} (or a path to a .yaml file)"
        )
    return load_yaml_file(presets[text])


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        (inner,) = [option for option in options if option is not type(None)]
        return _convert(inner, value, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        item_type = args[0]
        return tuple(_convert(item_type, item, f"{key}[{index}]") for index, item in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, key)
    if isinstance(tp, type) and issubclass(tp, ConfigEnum):
        return tp.parse(value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported field type {_type_name(tp)}")  # a bug in a schema
