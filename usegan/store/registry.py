"""The model registry: which checkpoint versions exist, their metrics and card, and which one is active per mode.

Status moves ``candidate`` -> ``active`` -> ``retired``; exactly one ``active`` version per mode at a time
(:meth:`Registry.set_active` retires the previous one in the same transaction). Reached as ``store.registry``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from usegan.fileutil import file_sha256
from usegan.store.errors import NotFoundError
from usegan.store.rows import columns, insert, record
from usegan.store.util import from_json, to_json
from usegan.vocab import Mode, ModelStatus, values


@dataclass(frozen=True)
class ModelRecord:
    version: str
    mode: str  # strain / swe
    path: str  # checkpoint file
    sha256: str  # of the checkpoint file
    metrics: dict  # evaluation numbers, e.g. {"l1": 0.08, "ssim": 0.71}
    card: dict  # model card: training data, intended use, "trained_on": "simulated phantoms", ...
    status: str  # candidate / active / retired
    created_at: dt.datetime
    promoted_at: dt.datetime | None


_COLUMNS = columns(ModelRecord)
_SELECT = ", ".join(_COLUMNS)


class Registry:
    def __init__(self, store) -> None:
        self._store = store

    def _record(self, row) -> ModelRecord:
        decode = {"metrics": lambda text: from_json(text) or {}, "card": lambda text: from_json(text) or {}}
        return record(ModelRecord, _COLUMNS, row, decode)

    def register(
        self,
        version: str,
        mode: str,
        path: str | Path,
        *,
        created_by: str,
        sha256: str | None = None,
        metrics: dict | None = None,
        card: dict | None = None,
    ) -> ModelRecord:
        """Add a candidate version. ``sha256`` defaults to the hash of the file at ``path`` (which must exist)."""
        if mode not in values(Mode):
            raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")
        if not isinstance(version, str) or not version.strip():
            raise ValueError(f"version must be a non-empty string, got {version!r}")
        if sha256 is None:
            if not Path(path).is_file():
                raise ValueError(f"no checkpoint file at {path}")
            sha256 = file_sha256(path)
        store = self._store
        row = {
            "version": version,
            "mode": mode,
            "path": str(path),
            "sha256": sha256,
            "metrics": to_json(metrics or {}),
            "card": to_json(card or {}),
            "status": ModelStatus.CANDIDATE,
            "created_at": store.clock(),
            "promoted_at": None,
        }
        with store.transaction() as cur:
            if cur.execute("SELECT 1 FROM models WHERE version = ?", [version]).fetchone():
                raise ValueError(f"model version {version!r} is already registered")
            insert(cur, "models", row)
            store.audit(
                created_by,
                "model.register",
                "model",
                version,
                None,
                {"mode": mode, "path": str(path), "sha256": sha256, "metrics": metrics or {}},
            )
        return self.get(version)

    def get(self, version: str) -> ModelRecord:
        row = self._store._cursor().execute(f"SELECT {_SELECT} FROM models WHERE version = ?", [version]).fetchone()
        if row is None:
            raise NotFoundError(f"no model version {version!r} in the registry")
        return self._record(row)

    def active(self, mode: str) -> ModelRecord | None:
        """The active version for ``mode``, or ``None`` if none was promoted."""
        row = (
            self._store._cursor()
            .execute(f"SELECT {_SELECT} FROM models WHERE mode = ? AND status = 'active'", [mode])
            .fetchone()
        )
        return None if row is None else self._record(row)

    def list(self, mode: str | None = None) -> list[ModelRecord]:
        sql, params = f"SELECT {_SELECT} FROM models", []
        if mode is not None:
            sql, params = sql + " WHERE mode = ?", [mode]
        rows = self._store._cursor().execute(sql + " ORDER BY created_at, version", params).fetchall()
        return [self._record(r) for r in rows]

    def set_active(self, version: str, *, by: str, note: dict | None = None) -> ModelRecord:
        """Promote ``version``; the previously active version of the same mode becomes ``retired``.

        ``note`` (e.g. ``{"forced": True, "reason": ...}``) is added to the audit row of the same transaction."""
        store = self._store
        now = store.clock()
        with store.transaction() as cur:
            row = cur.execute("SELECT mode, status FROM models WHERE version = ?", [version]).fetchone()
            if row is None:
                raise NotFoundError(f"no model version {version!r} in the registry")
            mode, status = row
            previous = cur.execute(
                "SELECT version FROM models WHERE mode = ? AND status = 'active' AND version <> ?", [mode, version]
            ).fetchall()
            cur.execute(
                "UPDATE models SET status = 'retired' WHERE mode = ? AND status = 'active' AND version <> ?",
                [mode, version],
            )
            cur.execute("UPDATE models SET status = 'active', promoted_at = ? WHERE version = ?", [now, version])
            store.audit(
                by,
                "model.set_active",
                "model",
                version,
                {"status": status, "previous_active": [p[0] for p in previous]},
                {"status": ModelStatus.ACTIVE, **(note or {})},
            )
        return self.get(version)
