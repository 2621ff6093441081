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


# --- model versions compared on the same cases ------------------------------------------------------------------
# One row per (case, mode, model version): that version's newest generation and the newest pre-score recorded on
# it, for cases whose elastograms of one mode were generated by more than one version.
VERSIONS_SQL = """
WITH gens AS (
    SELECT case_id, mode, model_version, generation_id, colour_scale, created_at,
           row_number() OVER (PARTITION BY case_id, mode, model_version
                              ORDER BY created_at DESC, generation_id) AS rn
    FROM generations
), multi AS (
    SELECT case_id, mode FROM gens WHERE rn = 1 GROUP BY case_id, mode HAVING count(*) > 1
), pre AS (
    SELECT generation_id, score,
           row_number() OVER (PARTITION BY generation_id ORDER BY created_at DESC, prescore_id DESC) AS rn
    FROM prescores WHERE generation_id IS NOT NULL
)
SELECT g.case_id, c.organ, g.mode, g.model_version, g.generation_id, g.created_at AS generated_at,
       p.score AS stored_score, p.generation_id IS NOT NULL AS has_prescore, c.status, c.confirmed_score
FROM gens g
JOIN multi m ON m.case_id = g.case_id AND m.mode = g.mode
JOIN cases c ON c.case_id = g.case_id
LEFT JOIN pre p ON p.generation_id = g.generation_id AND p.rn = 1
WHERE g.rn = 1
ORDER BY g.case_id, g.mode, g.created_at, g.model_version
"""

VERSION_COLUMNS = [
    "case_id", "organ", "mode", "model_version", "generated_at", "proposed_score", "score_source", "status",
    "confirmed_score",
]  # fmt: skip


def version_comparison(store, *, rescore: bool = True, max_cases: int = 500) -> pd.DataFrame:
    """Pre-scores of every model version on the same cases, long format (columns :data:`VERSION_COLUMNS`).

    Only cases with generations of one mode from two or more model versions appear (at most ``max_cases``). A
    version's pre-score is the one stored on its generation (``score_source="stored"``: what a reviewer saw);
    when none was stored and ``rescore`` is true, the algorithm scores that generation with the case's current
    review ROIs (``"rescored"``), so versions are compared on the same lesion; otherwise ``"none"`` and NaN.
    """
    if max_cases < 1:
        raise ValueError(f"max_cases must be >= 1, got {max_cases!r}")
    df = store.query(VERSIONS_SQL)
    keep = df["case_id"].drop_duplicates().head(max_cases)
    df = df[df["case_id"].isin(keep)].reset_index(drop=True)
    scores, sources = [], []
    rois_by_case: dict[str, dict] = {}
    for row in df.itertuples(index=False):
        if row.has_prescore:
            scores.append(row.stored_score)
            sources.append("stored")
            continue
        rois = _review_rois(store, row.case_id, rois_by_case) if rescore else {}
        if "lesion" not in rois:
            scores.append(None)
            sources.append("none")
            continue
        from usegan.dashboard.service import score_rois

        generation = store.get_generation(row.generation_id)
        result = score_rois(generation.elastogram(), row.mode, generation.colour_scale, rois, row.organ)
        scores.append(result.score)
        sources.append("rescored")
    out = df.assign(proposed_score=pd.array(scores, dtype="Int64"), score_source=sources)
    out["confirmed_score"] = out["confirmed_score"].astype("Int64")
    return out[VERSION_COLUMNS]


def _review_rois(store, case_id: str, cache: dict) -> dict:
    if case_id not in cache:
        from usegan.dashboard.roi_canvas import rois_from_json

        review = store.current_review(case_id)
        cache[case_id] = rois_from_json(review.rois) if review is not None else {}
    return cache[case_id]


def version_table(long: pd.DataFrame) -> pd.DataFrame:
    """Side by side: one row per (case, mode), one column per model version with its pre-score, then the
    confirmed score and ``spread`` (highest minus lowest pre-score across versions; 0 = the versions agree)."""
    index = ["case_id", "organ", "mode", "status", "confirmed_score"]
    if long.empty:
        return pd.DataFrame(columns=[*index, "spread"])
    keys = ["case_id", "mode"]
    meta = long[index].drop_duplicates(subset=keys)
    scores = long.pivot(index=keys, columns="model_version", values="proposed_score").reset_index()
    scores.columns.name = None
    wide = meta.merge(scores, on=keys, how="left")
    versions = sorted(long["model_version"].unique())
    wide = wide[[*index, *versions]]
    scores = wide[versions].astype("Float64")
    wide["spread"] = (scores.max(axis=1) - scores.min(axis=1)).astype("Int64")
    return wide


def version_agreement(long: pd.DataFrame) -> pd.DataFrame:
    """Per mode and model version, agreement with the confirmed score on the *common* reviewed cases: signed or
    amended cases where every compared version of that mode has a pre-score (so each version sees the same
    cases). Columns: mode, model_version, cases, exact_agreement, within_one, kappa_qw."""
    columns = ["mode", "model_version", "cases", "exact_agreement", "within_one", "kappa_qw"]
    done = long[long["status"].isin(["signed", "amended"]) & long["confirmed_score"].notna()]
    rows = []
    for mode, group in done.groupby("mode"):
        versions = group["model_version"].unique()
        per_case = group.dropna(subset=["proposed_score"]).groupby("case_id")["model_version"].nunique()
        common = per_case[per_case == len(versions)].index
        for version in sorted(versions):
            sub = group[(group["model_version"] == version) & group["case_id"].isin(common)]
            confirmed = sub["confirmed_score"].astype(int).tolist()
            proposed = sub["proposed_score"].astype(int).tolist()
            diff = (sub["confirmed_score"] - sub["proposed_score"]).abs().astype(float)
            rows.append(
                {
                    "mode": mode,
                    "model_version": version,
                    "cases": len(sub),
                    "exact_agreement": float((diff == 0).mean()) if len(sub) else math.nan,
                    "within_one": float((diff <= 1).mean()) if len(sub) else math.nan,
                    "kappa_qw": quadratic_weighted_kappa(confirmed, proposed),
                }
            )
    return pd.DataFrame(rows, columns=columns)
