"""The worklist: the latest cases, filtered, from the denormalised columns of ``cases`` (one table, no joins).

At 100,000 cases DuckDB answers these in milliseconds by scanning a handful of columns (``bench/store_scale.py``);
no ART index is needed for the filters, which also keeps updates of ``status`` cheap.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from usegan.vocab import CaseStatus, values

STATUSES = values(CaseStatus)
WORKLIST_COLUMNS = (
    "case_id",
    "patient_id",
    "organ",
    "side",
    "source",
    "exam_at",
    "created_at",
    "status",
    "reviewer",
    "proposed_score",
    "confirmed_score",
    "updated_at",
)


class WorklistMixin:
    def worklist(
        self,
        status: str | list[str] | None = None,
        organ: str | None = None,
        date_from: dt.date | dt.datetime | None = None,
        date_to: dt.date | dt.datetime | None = None,
        reviewer: str | None = None,
        search: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Cases newest exam first, one row each with :data:`WORKLIST_COLUMNS`.

        ``status``: one of :data:`STATUSES` or a list of them. ``date_from``/``date_to`` bound ``exam_at``
        (a ``date`` for ``date_to`` includes that whole day). ``search`` matches case id, patient id, organ
        or notes, case-insensitively.
        """
        where, params = self._filters(status, organ, date_from, date_to, reviewer, search)
        if not 1 <= int(limit) <= 10_000 or int(offset) < 0:
            raise ValueError(f"limit must be 1..10000 and offset >= 0, got limit={limit!r} offset={offset!r}")
        sql = (
            f"SELECT {', '.join(WORKLIST_COLUMNS)} FROM cases{where} "
            "ORDER BY exam_at DESC, case_id DESC LIMIT ? OFFSET ?"
        )
        return self._cursor().execute(sql, [*params, int(limit), int(offset)]).df()

    def count_cases(self, **filters) -> int:
        """How many cases match the same filters as :meth:`worklist` (for paging)."""
        where, params = self._filters(**filters)
        return int(self._cursor().execute(f"SELECT count(*) FROM cases{where}", params).fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Number of cases per status, every status present (0 when none), plus ``"total"``."""
        rows = (
            self._cursor()
            .execute("SELECT status, count(*) FROM cases WHERE withdrawn_at IS NULL GROUP BY status")
            .fetchall()
        )
        out = {s: 0 for s in STATUSES} | {s: int(n) for s, n in rows}
        out["total"] = sum(out[s] for s in STATUSES)
        return out

    @staticmethod
    def _filters(status=None, organ=None, date_from=None, date_to=None, reviewer=None, search=None):
        where, params = ["withdrawn_at IS NULL"], []  # withdrawn cases stay in the archive, off the worklist
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            bad = [s for s in wanted if s not in STATUSES]
            if bad or not wanted:
                raise ValueError(f"status must be among {STATUSES}, got {status!r}")
            where.append(f"status IN ({', '.join('?' * len(wanted))})")
            params += wanted
        if organ:
            where.append("organ = ?")
            params.append(organ)
        if date_from is not None:
            where.append("exam_at >= ?")
            params.append(_start(date_from))
        if date_to is not None:
            if isinstance(date_to, dt.datetime):
                where.append("exam_at <= ?")
                params.append(date_to)
            else:
                where.append("exam_at < ?")
                params.append(_start(date_to) + dt.timedelta(days=1))
        if reviewer:
            where.append("reviewer = ?")
            params.append(reviewer)
        if search:
            where.append("(case_id ILIKE ? OR patient_id ILIKE ? OR organ ILIKE ? OR notes ILIKE ?)")
            params += [f"%{search}%"] * 4
        return (" WHERE " + " AND ".join(where) if where else ""), params


def _start(day: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(day, dt.datetime):
        return day
    if isinstance(day, dt.date):
        return dt.datetime(day.year, day.month, day.day)
    raise ValueError(f"expected a date or datetime, got {day!r}")
