"""Small helpers shared by the store modules: the timestamp convention, JSON columns and ids."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import numpy as np

from usegan.fileutil import utc_now  # noqa: F401  (the store's clock; re-exported)


def to_json(value: object) -> str | None:
    """``json.dumps`` that also takes numpy scalars/arrays and datetimes; ``None`` stays SQL NULL."""
    if value is None:
        return None

    def default(obj: object) -> object:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, dt.datetime | dt.date):
            return obj.isoformat()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"cannot store {type(obj).__name__} as JSON: {obj!r}")

    return json.dumps(value, default=default, ensure_ascii=False, sort_keys=True)


def from_json(text: str | None) -> object:
    return None if text is None else json.loads(text)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"
