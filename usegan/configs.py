"""Shared helpers for the frozen config dataclasses (``GeneratorConfig``, ``UNetConfig``, ``TrainConfig``,
``FinetuneConfig``): fields with help text, CLI options built from them, dicts and JSON files read into them.

A field is declared with :func:`option`, which keeps its help text in the field's metadata, so the CLI builds
``--field-name`` options with help straight from the dataclass (no source scraping) and stays importable without
torch.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import MISSING, Field, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def option(default: Any, help: str) -> Any:
    """A dataclass field with a default and the help text its CLI option shows."""
    return field(default=default, metadata={"help": help})


def help_of(f: Field) -> str:
    """The help text of a field declared with :func:`option` ("" otherwise)."""
    return str(f.metadata.get("help", ""))


def parse_bool(text: str) -> bool:
    """``1/true/yes/on`` -> True, ``0/false/no/off`` -> False (any case); anything else is refused."""
    word = str(text).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r} (use one of {sorted(_TRUE | _FALSE)})")


def _bool_option(text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def config_from_dict(cls: type[T], data: dict, what: str) -> T:
    """Build ``cls(**data)``, refusing keys the dataclass does not have with an error naming them."""
    unknown = set(data) - {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"unknown {what} config keys: {sorted(unknown)}")
    return cls(**data)


def read_config_file(path: str | Path) -> dict:
    """The JSON object in ``path``; ``ValueError`` naming the file when it is missing, unreadable or not an object."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read config file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"config file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a JSON object of fields, got {type(data).__name__}")
    return data


def add_config_arguments(parser: argparse.ArgumentParser, config_cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add one ``--field-name`` option per dataclass field (help from :func:`option`, default = the field's)."""
    for f in fields(config_cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        help_text = f"{help_of(f)} (default: {default!r})"
        if f.type in ("bool", bool):
            parser.add_argument(flag, dest=f.name, default=None, help=help_text, type=_bool_option, metavar="BOOL")
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            parser.add_argument(flag, dest=f.name, default=None, type=kind, help=help_text)


def config_from_args(args: argparse.Namespace, config_cls: type[T], base: dict | None = None) -> T:
    """A config from parsed options: ``base`` values overridden by every option the user gave; unknown ``base``
    keys are refused by name."""
    values = dict(base or {})
    for f in fields(config_cls):  # type: ignore[arg-type]
        value = getattr(args, f.name, None)
        if value is not None:
            values[f.name] = value
    return config_from_dict(config_cls, values, config_cls.__name__)
