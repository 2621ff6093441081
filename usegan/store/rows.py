"""Rows <-> dataclasses by column *name*, never by position: the one helper every store module reads rows with.

A dataclass's fields are its columns (minus ``skip``, e.g. the ``images`` handle a :class:`Case` carries), so a
column added to a table or reordered in a ``SELECT`` can never shift a value into the wrong field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def columns(cls: type, skip: tuple[str, ...] = ("images",)) -> list[str]:
    """The column names of dataclass ``cls``: its field names, in order, without ``skip``."""
    return [f.name for f in fields(cls) if f.name not in skip]


def select_list(cls: type, skip: tuple[str, ...] = ("images",)) -> str:
    """``"a, b, c"``: the columns of ``cls`` for a ``SELECT``."""
    return ", ".join(columns(cls, skip))


def record(
    cls: type[T],
    names: Sequence[str],
    row: Sequence[Any],
    decode: Mapping[str, Callable[..., Any]] | None = None,
    **extra: Any,
) -> T:
    """``cls`` built by keyword from ``row`` (values in the order of ``names``); ``decode`` maps column -> function
    applied first (e.g. JSON text -> dict); ``extra`` keyword values are added (e.g. ``images=``)."""
    values = dict(zip(names, row, strict=True))
    for name, function in (decode or {}).items():
        values[name] = function(values[name])
    return cls(**values, **extra)


def insert(cur: Any, table: str, row: dict[str, Any]) -> None:
    """``INSERT INTO table`` one row given as ``{column: value}`` (by name, like :func:`record`)."""
    cur.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
