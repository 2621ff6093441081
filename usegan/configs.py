"""Shared helper for the frozen config dataclasses (``GeneratorConfig``, ``UNetConfig``, ``TrainConfig``)."""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

T = TypeVar("T")


def config_from_dict(cls: type[T], data: dict, what: str) -> T:
    """Build ``cls(**data)``, refusing keys the dataclass does not have with an error naming them."""
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what} config keys: {sorted(unknown)}")
    return cls(**data)
