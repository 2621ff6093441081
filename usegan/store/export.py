"""Export the store's tables for analysis: CSV or Parquet files, one per table.

Exported: cases, generations, prescores (scores), reviews, reports, real elastograms, model versions. Never
exported: users (password hashes) and real patient names (only pseudonymous ids leave the store).
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("csv", "parquet")
TABLES = {  # file stem -> SELECT; JSON columns stay JSON text so CSV and Parquet agree
    "cases": "SELECT * FROM cases ORDER BY created_at, case_id",
    "generations": "SELECT * FROM generations ORDER BY created_at, generation_id",
    "prescores": "SELECT * FROM prescores ORDER BY created_at, prescore_id",
    "reviews": "SELECT * FROM reviews ORDER BY case_id, version",
    "reports": "SELECT * FROM reports ORDER BY created_at, report_id",
    "real_elastograms": "SELECT * FROM real_elastograms ORDER BY created_at, elastogram_id",
    "models": "SELECT * FROM models ORDER BY created_at, version",
    "training_pairs": "SELECT * FROM training_pairs ORDER BY created_at, case_id, mode",
}


def export_tables(store, dest: str | Path, fmt: str = "csv") -> list[Path]:
    """Write one ``<table>.<fmt>`` per exported table into ``dest`` (created); return the paths written.

    The tables are read in one transaction, so the files are a consistent snapshot even while the app writes.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    cur = store._cursor()
    written = []
    cur.execute("BEGIN TRANSACTION")
    try:
        for stem, select in TABLES.items():
            path = dest / f"{stem}.{fmt}"
            options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet"
            target = str(path).replace("'", "''")
            cur.execute(f"COPY ({select}) TO '{target}' ({options})")
            written.append(path)
    finally:
        cur.execute("COMMIT")
    return written
