"""Tables as a reader sees them: short column names, and blank cells where a value is missing (never "None")."""

from __future__ import annotations

import pandas as pd

WORKLIST_COLUMNS = {
    "case_id": "case_id",
    "patient_id": "patient_id",
    "organ": "organ",
    "side": "side",
    "status": "status",
    "exam_at": "exam_at",
    "reviewer": "reviewer",
    "proposed_score": "proposed",
    "confirmed_score": "confirmed",
}


def blank_missing(frame: pd.DataFrame, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every column except ``keep`` as text, missing values (None, NaN, NaT, "") as ``""``; whole numbers stored as
    floats (a score column with gaps) print without ``.0``."""
    out = frame.copy()
    for column in out.columns:
        if column in keep:
            continue
        out[column] = [_text(v) for v in out[column]]
    return out


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def worklist_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The worklist's columns for display: scores as plain numbers, empty cells blank (dates kept for sorting)."""
    present = [c for c in WORKLIST_COLUMNS if c in table.columns]
    return blank_missing(table[present].rename(columns=WORKLIST_COLUMNS), keep=("exam_at",))
