"""The ``training_pairs`` table: which signed case + real elastogram of a mode is a fine-tuning pair, and its split.

A component of :class:`usegan.store.Store` (``store.training_pairs``); the rules that decide a pair (split by a
hash of the patient, alignment checks, snapshots) live in :mod:`usegan.finetune.pairs`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from usegan.store.rows import columns, insert, record
from usegan.vocab import FINAL_STATUSES

SPLITS = ("train", "validation")


@dataclass(frozen=True)
class Pair:
    case_id: str
    mode: str  # strain / swe
    split: str  # train / validation, fixed at creation
    elastogram_id: str  # the real elastogram used
    review_id: str  # the signed review whose lesion ROI is the mask
    created_at: dt.datetime


_COLUMNS = columns(Pair)

# Eligible (case, mode): newest real elastogram of the mode + the current review, when that review is signed.
_CANDIDATES_SQL = f"""
SELECT c.case_id, coalesce(c.patient_id, c.case_id) AS split_key, e.mode, e.elastogram_id, r.review_id
FROM cases c
JOIN (SELECT case_id, mode, arg_max(elastogram_id, created_at) AS elastogram_id
      FROM real_elastograms GROUP BY case_id, mode) e ON e.case_id = c.case_id
JOIN (SELECT case_id, arg_max(review_id, version) AS review_id, arg_max(status, version) AS status
      FROM reviews GROUP BY case_id) r ON r.case_id = c.case_id
WHERE r.status IN ({", ".join(f"'{s}'" for s in FINAL_STATUSES)})
"""


class TrainingPairs:
    def __init__(self, store) -> None:
        self._store = store

    def candidates(self, mode: str | None = None) -> list[dict]:
        """Every (case, mode) that qualifies now: ``case_id, split_key, mode, elastogram_id, review_id`` dicts,
        ordered by case and mode (``split_key`` is the patient pseudonym, else the case id)."""
        sql, params = _CANDIDATES_SQL, []
        if mode is not None:
            sql, params = sql + " AND e.mode = ?", [mode]
        return self._store.query(sql + " ORDER BY c.case_id, e.mode", params).to_dict("records")

    def list(self, mode: str | None = None, split: str | None = None) -> list[Pair]:
        """Registered pairs, ordered by case id."""
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        where, params = [], []
        for column, value in (("mode", mode), ("split", split)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = f"SELECT {', '.join(_COLUMNS)} FROM training_pairs"
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY case_id, mode"
        rows = self._store._cursor().execute(sql, params).fetchall()
        return [record(Pair, _COLUMNS, row) for row in rows]

    def add(self, case_id: str, mode: str, split: str, elastogram_id: str, review_id: str, *, by: str) -> Pair:
        """Register a new pair with its split (audited)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        store = self._store
        now = store.clock()
        pair = Pair(
            case_id=case_id, mode=mode, split=split, elastogram_id=elastogram_id, review_id=review_id, created_at=now
        )
        row = {c: getattr(pair, c) for c in _COLUMNS} | {"created_by": by, "updated_at": now}
        after = {"mode": mode, "split": split, "review_id": review_id}
        with store.transaction() as cur:
            insert(cur, "training_pairs", row)
            store.audit(by, "training_pair.add", "case", case_id, None, after)
        return pair

    def update(self, old: Pair, elastogram_id: str, review_id: str, *, by: str) -> None:
        """Point an existing pair at a newer review / elastogram; its split never changes (audited)."""
        store = self._store
        with store.transaction() as cur:
            cur.execute(
                "UPDATE training_pairs SET elastogram_id = ?, review_id = ?, updated_at = ? "
                "WHERE case_id = ? AND mode = ?",
                [elastogram_id, review_id, store.clock(), old.case_id, old.mode],
            )
            before = {"review_id": old.review_id, "elastogram_id": old.elastogram_id}
            after = {"review_id": review_id, "elastogram_id": elastogram_id, "split": old.split}
            store.audit(by, "training_pair.update", "case", old.case_id, before, after)

    def counts(self) -> list[tuple[str, str, int]]:
        """``(mode, split, n)`` for every mode and split that has pairs."""
        rows = self._store._cursor().execute("SELECT mode, split, count(*) FROM training_pairs GROUP BY ALL").fetchall()
        return [(mode, split, int(n)) for mode, split, n in rows]
