"""Research audit: the algorithm's proposals against the clinicians' confirmed scores.

Quadratic-weighted kappa (Cohen 1968): ``1 - sum(W * O) / sum(W * E)`` with weights
``W[i, j] = (i - j)^2 / (K - 1)^2``, observed matrix ``O`` and the matrix ``E`` expected by chance from the two
raters' marginals; 1 = perfect agreement, 0 = chance, < 0 worse than chance.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

SCORES = (1, 2, 3, 4, 5)


def confusion_matrix(confirmed, proposed, classes=SCORES) -> np.ndarray:
    """``(K, K)`` int counts, rows = confirmed, columns = proposed; pairs with a missing value are skipped."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for a, b in zip(confirmed, proposed, strict=True):
        if a is None or b is None or _isnan(a) or _isnan(b):
            continue
        if int(a) not in index or int(b) not in index:
            raise ValueError(f"scores must be among {tuple(classes)}, got {a!r} and {b!r}")
        matrix[index[int(a)], index[int(b)]] += 1
    return matrix


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def quadratic_weighted_kappa(confirmed, proposed, classes=SCORES) -> float:
    """Cohen's quadratic-weighted kappa of two raters; NaN with no pairs or when chance agreement is total."""
    observed = confusion_matrix(confirmed, proposed, classes).astype(np.float64)
    n = observed.sum()
    if n == 0:
        return math.nan
    k = len(classes)
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    weights = (i - j) ** 2 / (k - 1) ** 2
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    denominator = (weights * expected).sum()
    if denominator == 0:
        return 1.0 if (weights * observed).sum() == 0 else math.nan
    return float(1.0 - (weights * observed).sum() / denominator)


AUDIT_SQL = """
SELECT c.case_id, c.organ, c.source, c.status, c.proposed_score, c.confirmed_score, c.reviewer, c.exam_at,
       c.updated_at, g.model_version, g.mode,
       NULLIF(regexp_extract(c.notes, 'lesion type: ([a-z_]+)', 1), '') AS lesion_type
FROM cases c
LEFT JOIN (
    SELECT case_id, model_version, mode,
           row_number() OVER (PARTITION BY case_id ORDER BY created_at DESC) AS rn
    FROM generations
) g ON g.case_id = c.case_id AND g.rn = 1
"""


def audit_table(store) -> pd.DataFrame:
    """One row per case: organ, lesion type (samples), status, proposed / confirmed score, model version, dates.

    Lesion type is known for bundled samples and phantoms, whose notes say ``lesion type: <type>``
    (:func:`usegan.dashboard.intake.create_sample_case`); clinical cases have none.
    """
    df = store.query(AUDIT_SQL)
    df["agree"] = df["proposed_score"] == df["confirmed_score"]
    df["difference"] = df["confirmed_score"] - df["proposed_score"]
    return df


def reviewed(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with both a proposal and a signed (or amended) confirmed score."""
    mask = df["status"].isin(["signed", "amended"]) & df["proposed_score"].notna() & df["confirmed_score"].notna()
    return df[mask]


def per_model_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per model version: cases, exact agreement, within-one agreement and quadratic-weighted kappa."""
    rows = []
    for version, group in reviewed(df).groupby(df["model_version"].fillna("(none)")):
        confirmed, proposed = group["confirmed_score"].tolist(), group["proposed_score"].tolist()
        diff = (group["confirmed_score"] - group["proposed_score"]).abs()
        rows.append(
            {
                "model_version": version,
                "cases": len(group),
                "exact_agreement": float((diff == 0).mean()),
                "within_one": float((diff <= 1).mean()),
                "kappa_qw": quadratic_weighted_kappa(confirmed, proposed),
            }
        )
    return pd.DataFrame(rows, columns=["model_version", "cases", "exact_agreement", "within_one", "kappa_qw"])


def agreement_over_time(df: pd.DataFrame, freq: str = "W") -> pd.DataFrame:
    """Exact-agreement rate and case count per period (``freq``: pandas offset alias, weekly by default)."""
    done = reviewed(df)
    if done.empty:
        return pd.DataFrame(columns=["period", "cases", "exact_agreement"])
    period = pd.to_datetime(done["updated_at"]).dt.to_period(freq).dt.start_time
    grouped = done.assign(period=period).groupby("period")
    out = grouped.agg(cases=("case_id", "count"), exact_agreement=("agree", "mean")).reset_index()
    return out


def disagreements(df: pd.DataFrame) -> pd.DataFrame:
    """Reviewed cases where the clinician changed the algorithm's score, largest changes first."""
    done = reviewed(df)
    out = done[done["difference"] != 0].copy()
    out["abs_difference"] = out["difference"].abs()
    return out.sort_values(["abs_difference", "updated_at"], ascending=[False, False]).drop(columns="abs_difference")


def export_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """``df`` as CSV (UTF-8) or Parquet bytes, for the download buttons."""
    if fmt == "csv":
        return df.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
