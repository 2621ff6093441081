"""Research audit: the algorithm's proposals against the clinicians' confirmed scores.

Agreement statistics (confusion matrix, quadratic-weighted kappa) come from :mod:`usegan.agreement`.
"""

from __future__ import annotations

import io
import math

import pandas as pd

from usegan.agreement import SCORES, confusion_matrix, quadratic_weighted_kappa  # noqa: F401 (re-exported)
from usegan.vocab import FINAL_STATUSES


def audit_table(store) -> pd.DataFrame:
    """One row per reading (case + mode): organ, lesion type (samples), status, the scale of the confirmed score,
    proposed / confirmed score on that scale, the model version the reading was made on, dates; plus one row per
    case not read yet.

    Lesion type is known for bundled samples and phantoms (``cases.lesion_type``, set by
    :func:`usegan.services.intake.create_sample_case`); clinical cases have none.
    """
    df = store.read_models.case_outcomes().sort_values(["exam_at", "case_id", "mode"], ignore_index=True)
    df["proposed_score"] = df["proposed_score"].astype("Int64").astype("float64")
    df["confirmed_score"] = df["confirmed_score"].astype("Int64").astype("float64")
    df["agree"] = df["proposed_score"] == df["confirmed_score"]
    df["difference"] = df["confirmed_score"] - df["proposed_score"]
    return df


def per_scale_agreement(df: pd.DataFrame) -> list[dict]:
    """Confusion matrix and quadratic-weighted kappa per confirmed-score scale, never mixing scales:
    ``[{"scale", "name", "classes", "matrix", "kappa", "readings"}, ...]`` for each scale with signed readings."""
    from usegan.scoring.systems import scale_named

    out = []
    done = reviewed(df)
    for system, group in done.groupby("scale"):
        scale = scale_named(system)
        classes = scale.scores if scale is not None else SCORES
        confirmed, proposed = group["confirmed_score"].tolist(), group["proposed_score"].tolist()
        out.append(
            {
                "scale": system,
                "name": scale.name if scale is not None else str(system),
                "classes": classes,
                "matrix": confusion_matrix(confirmed, proposed, classes),
                "kappa": quadratic_weighted_kappa(confirmed, proposed, classes),
                "readings": len(group),
            }
        )
    return out


def reviewed(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with both a proposal and a signed (or amended) confirmed score."""
    mask = df["status"].isin(FINAL_STATUSES) & df["proposed_score"].notna() & df["confirmed_score"].notna()
    return df[mask]


def per_model_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per model version, mode and scale: readings, exact agreement, within-one agreement and quadratic-weighted
    kappa (each reading counted for the model it was read on)."""
    columns = ["model_version", "mode", "scale", "readings", "exact_agreement", "within_one", "kappa_qw"]
    from usegan.scoring.systems import scale_named

    rows = []
    done = reviewed(df)
    keys = [done["model_version"].fillna("(none)"), done["mode"].fillna("-"), done["scale"].fillna("-")]
    for (version, mode, system), group in done.groupby(keys):
        scale = scale_named(system)
        confirmed, proposed = group["confirmed_score"].tolist(), group["proposed_score"].tolist()
        diff = (group["confirmed_score"] - group["proposed_score"]).abs()
        rows.append(
            {
                "model_version": version,
                "mode": mode,
                "scale": system,
                "readings": len(group),
                "exact_agreement": float((diff == 0).mean()),
                "within_one": float((diff <= 1).mean()),
                "kappa_qw": quadratic_weighted_kappa(confirmed, proposed, scale.scores if scale else SCORES),
            }
        )
    return pd.DataFrame(rows, columns=columns)


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
    df = store.read_models.version_outcomes()
    keep = df["case_id"].drop_duplicates().head(max_cases)
    df = df[df["case_id"].isin(keep)].reset_index(drop=True)
    scores, sources = [], []
    rois_by_case: dict[str, dict] = {}
    for row in df.itertuples(index=False):
        if row.has_prescore:
            scores.append(row.stored_score)
            sources.append("stored")
            continue
        rois = _review_rois(store, row.case_id, row.mode, rois_by_case) if rescore else {}
        if "lesion" not in rois:
            scores.append(None)
            sources.append("none")
            continue
        from usegan.services.service import score_rois

        generation = store.get_generation(row.generation_id)
        result = score_rois(generation.elastogram(), row.mode, generation.colour_scale, rois, row.organ)
        scores.append(result.score)
        sources.append("rescored")
    out = df.assign(proposed_score=pd.array(scores, dtype="Int64"), score_source=sources)
    out["confirmed_score"] = out["confirmed_score"].astype("Int64")
    return out[VERSION_COLUMNS]


def _review_rois(store, case_id: str, mode: str, cache: dict) -> dict:
    """The ROIs of the case's current reading in ``mode`` (never the other mode's reading)."""
    if (case_id, mode) not in cache:
        from usegan.ui.roi_canvas import rois_from_json

        review = store.current_review(case_id, mode)
        cache[case_id, mode] = rois_from_json(review.rois) if review is not None else {}
    return cache[case_id, mode]


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
    done = long[long["status"].isin(FINAL_STATUSES) & long["confirmed_score"].notna()]
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
