"""Agreement statistics a research team can quote: kappa with a bootstrap confidence interval, confusion matrices
per score scale (never mixed), agreement over time with readable periods, integer score counts, the effect of
blinding, and the model's uncertainty against disagreement.

Every function takes a readings table (one row per reading; the export's ``readings`` file, column names in
``docs/export.md``) and returns numbers or a small DataFrame; :mod:`usegan.research.figures` draws them. No
Streamlit, so a notebook gets exactly the audit page's figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from usegan.agreement import SCORES, confusion_matrix, kappa_of_matrices

TRUTH, PROPOSED = "confirmed_score", "proposed_score"


@dataclass(frozen=True)
class KappaEstimate:
    """Quadratic-weighted kappa (or, from :func:`kappa_difference_ci`, a difference of two) with a percentile
    bootstrap interval; NaN everywhere when undefined."""

    kappa: float  # point estimate on all pairs, NaN when undefined
    low: float  # lower bound of the interval (NaN when it cannot be estimated)
    high: float  # upper bound
    n: int  # pairs used (pairs with a missing score are skipped)
    level: float  # confidence level of the interval, e.g. 0.95
    reason: str = ""  # why the kappa (or its interval) is undefined; "" when both are defined

    @property
    def defined(self) -> bool:
        return not math.isnan(self.kappa)

    @property
    def text(self) -> str:
        """``"0.62 (95% CI 0.41 to 0.80, n = 24)"``, or ``"undefined (n = 1: ...)"`` - never a bare 0.000."""
        if not self.defined:
            return f"undefined ({self.reason})"
        if math.isnan(self.low):
            return f"{self.kappa:.2f} (no interval: {self.reason}; n = {self.n})"
        return f"{self.kappa:.2f} ({self.level:.0%} CI {self.low:.2f} to {self.high:.2f}, n = {self.n})"

    @property
    def change_text(self) -> str:
        """A difference of two kappas (:func:`kappa_difference_ci`), signed: ``"+0.031 (-0.012 to +0.070; n = 9)"``."""
        if not self.defined or math.isnan(self.low):
            return f"{self.kappa:+.3f} (no interval: {self.reason}; n = {self.n})"
        return f"{self.kappa:+.3f} ({self.low:+.3f} to {self.high:+.3f}; n = {self.n})"


def _check_bootstrap(n_boot: int, level: float) -> None:
    if n_boot < 100:
        raise ValueError(f"n_boot must be >= 100 for a percentile interval, got {n_boot!r}")
    if not 0.5 <= level < 1.0:
        raise ValueError(f"level must be in [0.5, 1), got {level!r}")


def _percentile_interval(boot: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(low), float(high)


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


def _pairs(truth, predicted, classes) -> tuple[np.ndarray, np.ndarray]:
    """Class indices of the pairs where both scores are known (validated by :func:`confusion_matrix`)."""
    confusion_matrix(truth, predicted, classes)  # raises for a score outside ``classes``
    index = {c: i for i, c in enumerate(classes)}
    a, b = [], []
    for x, y in zip(truth, predicted, strict=True):
        if _missing(x) or _missing(y):
            continue
        a.append(index[int(x)])
        b.append(index[int(y)])
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)


def kappa_ci(
    truth, predicted, classes=SCORES, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> KappaEstimate:
    """Quadratic-weighted kappa of two raters with a percentile bootstrap interval (pairs resampled with
    replacement ``n_boot`` times; resamples where kappa is undefined are left out).

    Undefined (NaN, with the reason) for fewer than 2 pairs or when every reading falls in one class; the
    interval is NaN when fewer than half of the resamples give a kappa.
    """
    _check_bootstrap(n_boot, level)
    a, b = _pairs(truth, predicted, classes)
    n, k = len(a), len(classes)
    if n < 2:
        return KappaEstimate(math.nan, math.nan, math.nan, n, level, f"n = {n}: kappa needs at least 2 readings")
    observed = np.bincount(a * k + b, minlength=k * k).reshape(k, k)
    kappa = float(kappa_of_matrices(observed))
    if math.isnan(kappa):
        return KappaEstimate(math.nan, math.nan, math.nan, n, level, f"n = {n}, every reading has the same score")
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = kappa_of_matrices(_boot_matrices(a, b, draws, k))
    boot = boot[np.isfinite(boot)]
    if len(boot) < n_boot / 2:
        return KappaEstimate(kappa, math.nan, math.nan, n, level, "too few pairs for a bootstrap")
    low, high = _percentile_interval(boot, level)
    return KappaEstimate(kappa, low, high, n, level)


def _boot_matrices(a: np.ndarray, b: np.ndarray, draws: np.ndarray, k: int) -> np.ndarray:
    """Confusion matrices ``(n_boot, k, k)`` of class-index pairs ``(a, b)`` resampled by ``draws (n_boot, n)``."""
    n_boot = draws.shape[0]
    cells = (a[draws] * k + b[draws]) + (np.arange(n_boot)[:, None] * k * k)
    return np.bincount(cells.ravel(), minlength=n_boot * k * k).reshape(n_boot, k, k)


def paired_kappa_change(
    base: Mapping[str, tuple[int | None, int | None]], other: Mapping[str, tuple[int | None, int | None]], **bootstrap
) -> KappaEstimate:
    """Kappa on ``other`` minus kappa on ``base``, paired case by case: two mappings ``case name -> (truth, score)``
    (two models on one test set, or one model on the same lesions imaged two ways). Only cases in both with the
    same truth are used (a case drawn again can hold another truth); the interval is
    :func:`kappa_difference_ci`'s, which ``bootstrap`` (``n_boot``, ``level``, ``seed``) is passed to."""
    names = [n for n in sorted(set(base) & set(other)) if base[n][0] == other[n][0]]
    return kappa_difference_ci(
        [base[n][0] for n in names], [base[n][1] for n in names], [other[n][1] for n in names], **bootstrap
    )


def kappa_difference_ci(
    truth, first, second, classes=SCORES, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> KappaEstimate:
    """Kappa of ``second`` against ``truth`` minus kappa of ``first`` against the same ``truth``, with a *paired*
    percentile bootstrap: the same cases are resampled for both (two models on one test set, one model on the same
    lesions imaged two ways), so the interval is that of the difference, much narrower than two separate
    intervals. Cases where any of the three scores is missing are left out; ``n`` is the cases used."""
    _check_bootstrap(n_boot, level)
    truth, first, second = list(truth), list(first), list(second)  # by position, also for a filtered Series
    if not len(truth) == len(first) == len(second):
        raise ValueError(f"truth, first and second must have one score per case, got {len(truth)}, {len(first)}, "
                         f"{len(second)}")  # fmt: skip
    keep = [i for i, row in enumerate(zip(truth, first, second, strict=True)) if not any(_missing(v) for v in row)]
    t = [truth[i] for i in keep]
    a1, b1 = _pairs(t, [first[i] for i in keep], classes)
    a2, b2 = _pairs(t, [second[i] for i in keep], classes)
    n, k = len(keep), len(classes)
    if n < 2:
        return KappaEstimate(math.nan, math.nan, math.nan, n, level, f"n = {n}: kappa needs at least 2 cases")
    whole = np.arange(n)[None, :]
    diff = kappa_of_matrices(_boot_matrices(a2, b2, whole, k)) - kappa_of_matrices(_boot_matrices(a1, b1, whole, k))
    if not np.isfinite(diff[0]):
        return KappaEstimate(math.nan, math.nan, math.nan, n, level, f"n = {n}, a kappa is undefined")
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = kappa_of_matrices(_boot_matrices(a2, b2, draws, k)) - kappa_of_matrices(_boot_matrices(a1, b1, draws, k))
    boot = boot[np.isfinite(boot)]
    if len(boot) < n_boot / 2:
        return KappaEstimate(float(diff[0]), math.nan, math.nan, n, level, "too few cases for a bootstrap")
    low, high = _percentile_interval(boot, level)
    return KappaEstimate(float(diff[0]), low, high, n, level)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (well behaved at 0 %, 100 % and small n); NaNs for n = 0."""
    if n == 0:
        return math.nan, math.nan
    from scipy.stats import norm

    z = float(norm.ppf(1 - (1 - level) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def scored(readings: pd.DataFrame) -> pd.DataFrame:
    """Readings with both a proposal and a confirmed score (on the same scale by construction of the table)."""
    return readings.dropna(subset=[TRUTH, PROPOSED])


SUMMARY_COLUMNS = ["group", "n", "exact_agreement", "within_one", "kappa", "kappa_low", "kappa_high", "kappa_text"]


def agreement_summary(readings: pd.DataFrame, by: str | list[str] | None = None, **kappa_options) -> pd.DataFrame:
    """Per group (e.g. ``"model_version"``, ``"scale"``): n, exact and within-one agreement, kappa with its CI and
    a readable ``kappa_text``. ``by=None``: one row for everything. Columns :data:`SUMMARY_COLUMNS`."""
    done = scored(readings)
    keys = [by] if isinstance(by, str) else list(by or [])
    groups = done.groupby(keys, dropna=False) if keys else [("all", done)]
    rows = []
    for name, group in groups:
        estimate = kappa_ci(group[TRUTH].tolist(), group[PROPOSED].tolist(), **kappa_options)
        diff = (group[TRUTH].astype(float) - group[PROPOSED].astype(float)).abs()
        label = " / ".join(str(v) for v in name) if isinstance(name, tuple) else str(name)
        rows.append({
            "group": label, "n": len(group),
            "exact_agreement": float((diff == 0).mean()) if len(group) else math.nan,
            "within_one": float((diff <= 1).mean()) if len(group) else math.nan,
            "kappa": estimate.kappa, "kappa_low": estimate.low, "kappa_high": estimate.high,
            "kappa_text": estimate.text,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


@dataclass(frozen=True)
class ScaleConfusion:
    scale: str  # the confirmed score's scale (tsukuba, rago, swe_liver)
    matrix: np.ndarray  # (5, 5) int, rows = confirmed, columns = proposed
    kappa: KappaEstimate


def confusion_by_scale(readings: pd.DataFrame, **kappa_options) -> list[ScaleConfusion]:
    """One confusion matrix and kappa per score scale (``scale`` column): Tsukuba and Rago are never pooled."""
    out = []
    done = scored(readings)
    for scale, group in done.groupby("scale", sort=True):
        truth, proposed = group[TRUTH].tolist(), group[PROPOSED].tolist()
        matrix = confusion_matrix(truth, proposed)
        out.append(ScaleConfusion(str(scale), matrix, kappa_ci(truth, proposed, **kappa_options)))
    return out


PERIOD_NAMES = {"W": "week of", "M": "", "D": ""}


def agreement_over_time(readings: pd.DataFrame, date_column: str = "read_at", freq: str = "W") -> pd.DataFrame:
    """Exact agreement per period with a Wilson interval. ``freq``: ``"D"``, ``"W"`` (weeks start on Monday) or
    ``"M"``. Columns: ``period`` (the first day, a ``datetime.date``), ``label`` (``"week of 16 Nov 2026"``,
    ``"Nov 2026"``, ``"16 Nov 2026"``: what the axis shows, no clock times), n, exact_agreement, low, high."""
    if freq not in PERIOD_NAMES:
        raise ValueError(f"freq must be one of {tuple(PERIOD_NAMES)}, got {freq!r}")
    columns = ["period", "label", "n", "exact_agreement", "low", "high"]
    done = scored(readings).dropna(subset=[date_column])
    if done.empty:
        return pd.DataFrame(columns=columns)
    start = pd.to_datetime(done[date_column]).dt.to_period(freq).dt.start_time.dt.date
    agree = done[TRUTH].astype(float) == done[PROPOSED].astype(float)
    rows = []
    for period, hits in agree.groupby(start.values, sort=True):
        n, k = len(hits), int(hits.sum())
        low, high = wilson_interval(k, n)
        if freq == "M":
            label = f"{period:%b %Y}"
        else:
            label = f"{PERIOD_NAMES[freq]} {period.day} {period:%b %Y}".strip()
        rows.append({"period": period, "label": label, "n": n, "exact_agreement": k / n, "low": low, "high": high})
    return pd.DataFrame(rows, columns=columns)


def score_counts(readings: pd.DataFrame, column: str = TRUTH, by: str | None = None) -> pd.DataFrame:
    """Counts of each integer score 1..5 (zeros included, so every bar sits on a whole number), per ``by`` group.
    Columns: score, [by], count."""
    values = readings.dropna(subset=[column])
    if by is None:
        counts = values[column].astype(int).value_counts().reindex(SCORES, fill_value=0)
        return pd.DataFrame({"score": list(SCORES), "count": counts.to_numpy()})
    frames = []
    for name, group in values.groupby(by, sort=True):
        counts = group[column].astype(int).value_counts().reindex(SCORES, fill_value=0)
        frames.append(pd.DataFrame({"score": list(SCORES), by: name, "count": counts.to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["score", by, "count"])


# --- blinded reading: how much the proposal moves readers ---------------------------------------------------------
BLINDED_COLUMNS = [
    "phase", "n", "kappa_vs_proposal", "agree_with_proposal", "kappa_vs_confirmed", "median_seconds",
]  # fmt: skip


def blinded_comparison(readings: pd.DataFrame, **kappa_options) -> pd.DataFrame:
    """Blinded vs unblinded readings of the same cases (``blinded`` True / False, ``reader_score`` the reader's
    score in that phase, ``proposed_score`` the proposal revealed afterwards, ``confirmed_score`` the signed score
    where one exists, ``seconds`` the reading time). Per phase: kappa (text) and exact agreement with the proposal,
    kappa with the signed score, median reading time. Columns :data:`BLINDED_COLUMNS`."""
    rows = []
    for phase, blinded in (("blinded", True), ("unblinded", False)):
        part = readings[readings["blinded"] == blinded]
        with_proposal = part.dropna(subset=["reader_score", PROPOSED])
        with_truth = part.dropna(subset=["reader_score", TRUTH])
        reader = with_proposal["reader_score"].tolist()
        vs_proposal = kappa_ci(with_proposal[PROPOSED].tolist(), reader, **kappa_options)
        vs_truth = kappa_ci(with_truth[TRUTH].tolist(), with_truth["reader_score"].tolist(), **kappa_options)
        agree = with_proposal["reader_score"].astype(float) == with_proposal[PROPOSED].astype(float)
        rows.append({
            "phase": phase, "n": len(part), "kappa_vs_proposal": vs_proposal.text,
            "agree_with_proposal": float(agree.mean()) if len(agree) else math.nan,
            "kappa_vs_confirmed": vs_truth.text,
            "median_seconds": float(part["seconds"].median()) if part["seconds"].notna().any() else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=BLINDED_COLUMNS)


def proposal_shift(readings: pd.DataFrame) -> dict:
    """Pairs of (blinded, unblinded) readings of one reader on one case and mode (``session_id`` links them):
    how many changed their score after the reveal, and how many of those moved to the proposal. Returns
    ``{"pairs", "changed", "moved_to_proposal", "moved_towards_proposal"}``."""
    keys = ["session_id"]
    blind = readings[readings["blinded"] == True].set_index(keys)  # noqa: E712 (a pandas mask)
    seen = readings[readings["blinded"] == False].set_index(keys)  # noqa: E712
    after_reveal = seen[["reader_score", PROPOSED]].rename(columns={"reader_score": "reader_score_after"})
    both = blind[["reader_score"]].join(after_reveal, how="inner").dropna()
    before, after = both["reader_score"].astype(float), both["reader_score_after"].astype(float)
    proposal = both[PROPOSED].astype(float)
    changed = before != after
    return {
        "pairs": len(both),
        "changed": int(changed.sum()),
        "moved_to_proposal": int((changed & (after == proposal)).sum()),
        "moved_towards_proposal": int((changed & ((after - proposal).abs() < (before - proposal).abs())).sum()),
    }


# --- the model's uncertainty against disagreement and against its own errors ---------------------------------------
# Uncertainty columns are in colour-map position units (a fraction of the colour scale's span) by default, so strain
# and SWE readings can share a bin; usegan.research.uncertainty computes them from the stored maps.
UNCERTAINTY, ERROR = "lesion_uncertainty_position", "lesion_error_position"
CALIBRATION_COLUMNS = ["bin", "mean_uncertainty", "n", "disagreement", "low", "high"]
ERROR_CALIBRATION_COLUMNS = ["bin", "n", "mean_uncertainty", "rms_error", "mean_abs_error", "rms_over_uncertainty"]


def _bins(values: pd.Series, bins: int) -> pd.Series:
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins!r}")
    return pd.qcut(values.astype(float), q=min(bins, values.nunique()), duplicates="drop")


def uncertainty_calibration(readings: pd.DataFrame, column: str = UNCERTAINTY, bins: int = 4) -> pd.DataFrame:
    """Readings split into ``bins`` quantile bins of the model's mean uncertainty inside the lesion ROI; per bin
    the rate at which the clinician changed the proposal (with a Wilson interval). A useful uncertainty rises
    with disagreement. Empty when no reading has an uncertainty (models before per-pixel uncertainty)."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins!r}")
    if column not in readings.columns:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    done = scored(readings).dropna(subset=[column])
    if done.empty:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    rows = []
    for interval, group in done.groupby(_bins(done[column], bins), observed=True, sort=True):
        miss = int((group[TRUTH].astype(float) != group[PROPOSED].astype(float)).sum())
        low, high = wilson_interval(miss, len(group))
        rows.append({
            "bin": f"{interval.left:.3g}-{interval.right:.3g}", "mean_uncertainty": float(group[column].mean()),
            "n": len(group), "disagreement": miss / len(group), "low": low, "high": high,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def error_calibration(
    readings: pd.DataFrame, uncertainty: str = UNCERTAINTY, error: str = ERROR, bins: int = 4
) -> pd.DataFrame:
    """Where the truth is known (a real elastogram: a phantom's true one or a scanner's), the virtual elastogram's
    error in the lesion against the uncertainty the model predicted there, per quantile bin of that uncertainty:
    n, mean predicted SD, RMS and mean absolute error, and RMS / predicted SD (about 1 for a calibrated model;
    > 1: the model is over-confident, < 1: under-confident). Columns :data:`ERROR_CALIBRATION_COLUMNS`; empty
    without readings that have both."""
    if uncertainty not in readings.columns or error not in readings.columns:
        return pd.DataFrame(columns=ERROR_CALIBRATION_COLUMNS)
    both = readings.dropna(subset=[uncertainty, error])
    if both.empty:
        return pd.DataFrame(columns=ERROR_CALIBRATION_COLUMNS)
    rows = []
    for interval, group in both.groupby(_bins(both[uncertainty], bins), observed=True, sort=True):
        predicted, err = group[uncertainty].astype(float), group[error].astype(float).abs()
        rms = float(np.sqrt((err**2).mean()))
        rows.append({
            "bin": f"{interval.left:.3g}-{interval.right:.3g}", "n": len(group),
            "mean_uncertainty": float(predicted.mean()), "rms_error": rms, "mean_abs_error": float(err.mean()),
            "rms_over_uncertainty": rms / float(predicted.mean()) if predicted.mean() > 0 else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=ERROR_CALIBRATION_COLUMNS)


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rank correlation with a percentile bootstrap interval; NaN where undefined."""

    rho: float
    low: float
    high: float
    n: int
    level: float

    @property
    def text(self) -> str:
        if math.isnan(self.rho):
            return f"undefined (n = {self.n})"
        if math.isnan(self.low):
            return f"{self.rho:.2f} (no interval, n = {self.n})"
        return f"{self.rho:.2f} ({self.level:.0%} CI {self.low:.2f} to {self.high:.2f}, n = {self.n})"


def uncertainty_error_correlation(
    readings: pd.DataFrame,
    uncertainty: str = UNCERTAINTY,
    error: str = ERROR,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> RankCorrelation:
    """Spearman's rho between the predicted uncertainty and the absolute error over readings with both (does the
    model know where it is wrong?), with a percentile bootstrap interval over readings."""
    from scipy.stats import rankdata

    if uncertainty not in readings.columns or error not in readings.columns:
        return RankCorrelation(math.nan, math.nan, math.nan, 0, level)
    both = readings.dropna(subset=[uncertainty, error])
    x, y = both[uncertainty].to_numpy(float), both[error].abs().to_numpy(float)
    n = len(x)

    def rho(a: np.ndarray, b: np.ndarray) -> float:
        if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
            return math.nan
        return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])

    point = rho(x, y)
    if math.isnan(point) or n < 5:
        return RankCorrelation(point, math.nan, math.nan, n, level)
    rng = np.random.default_rng(seed)
    rhos = [rho(x[i], y[i]) for i in rng.integers(0, n, (n_boot, n))]
    draws = np.array([d for d in rhos if not math.isnan(d)])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail]) if draws.size else (math.nan, math.nan)
    return RankCorrelation(point, float(low), float(high), n, level)
