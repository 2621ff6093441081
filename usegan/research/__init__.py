"""Research on the archive: agreement statistics with confidence intervals, their figures, and the research
export (a folder of tables, images and masks) that a notebook opens. No Streamlit here.

>>> from usegan.research import kappa_ci
>>> kappa_ci([1, 2, 3, 4, 5, 5], [1, 2, 3, 5, 5, 4]).text[:4]
'0.93'
"""

from usegan.research.stats import (
    KappaEstimate,
    RankCorrelation,
    ScaleConfusion,
    agreement_over_time,
    agreement_summary,
    blinded_comparison,
    confusion_by_scale,
    error_calibration,
    kappa_ci,
    kappa_difference_ci,
    paired_kappa_change,
    proposal_shift,
    score_counts,
    uncertainty_calibration,
    uncertainty_error_correlation,
    wilson_interval,
)

__all__ = [
    "KappaEstimate",
    "RankCorrelation",
    "ScaleConfusion",
    "agreement_over_time",
    "agreement_summary",
    "blinded_comparison",
    "confusion_by_scale",
    "error_calibration",
    "kappa_ci",
    "kappa_difference_ci",
    "paired_kappa_change",
    "proposal_shift",
    "score_counts",
    "uncertainty_calibration",
    "uncertainty_error_correlation",
    "wilson_interval",
]
