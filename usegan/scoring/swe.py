"""Shear-wave elastography "Q-box" statistics and the organ's interpretation (docs/domain.md section 3).

Statistics of Young's modulus E (kPa) inside the lesion ROI: Emean, Emax, Emin, SD, the same as shear-wave
speed c = sqrt(E / (3 rho)) in m/s (E = 3 rho c^2, incompressible tissue), and Eratio = lesion Emean /
reference Emean when a reference (fat) ROI is given. Interpretation, with cut-offs from
:mod:`usegan.scoring.thresholds`:

* breast (Emax): 1 below 80 kPa; 2 >= 80 kPa suspicious [BE1-12; WFUMB15];
* thyroid (Emax): 1 below 69 kPa; 2 69-120 kPa suspicious; 3 >= 120 kPa highly suspicious [Hang17];
* liver (Emean; the guideline uses the median of >= 10 acquisitions, one Q-box here): 1 <= 5 kPa normal;
  2 < 9 rules out cACLD; 3 9-13 needs further tests; 4 > 13 highly suggestive of cACLD; 5 > 17 suggests
  clinically significant portal hypertension [SRU20].
"""

from __future__ import annotations

import math

import numpy as np

from usegan.scoring.features import check_map, check_mask
from usegan.scoring.ratio import roi_problem
from usegan.scoring.result import ScoreResult, cannot_score
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.vocab import Organ, values

ORGANS = values(Organ)


def kpa_to_speed(kpa: np.ndarray | float, density: float = DEFAULT_THRESHOLDS.tissue_density) -> np.ndarray:
    """Young's modulus in kPa -> shear-wave speed in m/s, c = sqrt(E / (3 rho)); 80 kPa -> 5.16 m/s."""
    return np.sqrt(np.asarray(kpa, dtype=np.float64) * 1000.0 / (3.0 * density))


def _stats(values: np.ndarray, names: tuple[str, str, str, str]) -> dict[str, float]:
    """Mean, max, min and sample SD of ``values`` under the four ``names``."""
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return dict(zip(names, (float(values.mean()), float(values.max()), float(values.min()), sd), strict=True))


def interpret(organ: str, figures: dict, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> tuple[int, str]:
    """The organ's class (1-based) and its wording from the Q-box figures."""
    t = thresholds
    emax, emean = figures["emax_kpa"], figures["emean_kpa"]
    if organ == Organ.BREAST:
        if emax >= t.breast_emax_suspicious_kpa:
            return 2, f"Emax {emax:.0f} kPa >= {t.breast_emax_suspicious_kpa:g} kPa: suspicious"
        return 1, f"Emax {emax:.0f} kPa < {t.breast_emax_suspicious_kpa:g} kPa: below the suspicious cut-off"
    if organ == Organ.THYROID:
        if emax >= t.thyroid_emax_highly_suspicious_kpa:
            return (
                3,
                f"Emax {emax:.0f} kPa >= {t.thyroid_emax_highly_suspicious_kpa:g} kPa: highly suspicious",
            )
        if emax >= t.thyroid_emax_suspicious_kpa:
            return (
                2,
                f"Emax {emax:.0f} kPa in {t.thyroid_emax_suspicious_kpa:g}-"
                f"{t.thyroid_emax_highly_suspicious_kpa:g} kPa: suspicious",
            )
        return 1, f"Emax {emax:.0f} kPa < {t.thyroid_emax_suspicious_kpa:g} kPa: below the suspicious cut-off"
    if emean > t.liver_portal_hypertension_kpa:
        return 5, f"Emean {emean:.1f} kPa > {t.liver_portal_hypertension_kpa:g}: suggests portal hypertension"
    if emean > t.liver_cacld_kpa:
        return 4, f"Emean {emean:.1f} kPa > {t.liver_cacld_kpa:g}: highly suggestive of cACLD"
    if emean >= t.liver_rule_out_cacld_kpa:
        return (
            3,
            f"Emean {emean:.1f} kPa in {t.liver_rule_out_cacld_kpa:g}-{t.liver_cacld_kpa:g} kPa: needs further tests",
        )
    if emean > t.liver_normal_kpa:
        return 2, f"Emean {emean:.1f} kPa < {t.liver_rule_out_cacld_kpa:g}: rules out cACLD"
    return 1, f"Emean {emean:.1f} kPa <= {t.liver_normal_kpa:g}: normal"


def qbox(
    kpa: np.ndarray,
    lesion_mask: np.ndarray,
    reference_mask: np.ndarray | None = None,
    organ: str = Organ.BREAST,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ScoreResult:
    """Q-box statistics of an SWE map with the organ's interpretation.

    Args:
        kpa: ``(H, W)`` float, Young's modulus in kPa (>= 0), NaN = unknown pixel.
        lesion_mask: ``(H, W)`` bool Q-box / lesion ROI.
        reference_mask: optional ``(H, W)`` bool reference (fat) ROI for Eratio.
        organ: ``"breast"``, ``"thyroid"`` or ``"liver"``.

    Returns ``system=f"swe_{organ}"`` with figures ``emean_kpa, emax_kpa, emin_kpa, sd_kpa``, the same as
    speeds in m/s (``*_speed_ms``), and ``eratio`` / ``reference_emean_kpa`` when a reference is given;
    ``score=None`` with a reason for empty, tiny or mostly-unknown ROIs.
    """
    if organ not in ORGANS:
        raise ValueError(f"organ must be one of {ORGANS}, got {organ!r}")
    system = f"swe_{organ}"
    kpa = check_map(kpa, "kpa")
    finite = kpa[np.isfinite(kpa)]
    if np.isinf(kpa).any() or (finite.size and finite.min() < 0):
        raise ValueError(f"kpa must be >= 0 and finite (NaN = unknown), got minimum {float(np.nanmin(kpa))!r}")
    lesion = check_mask(lesion_mask, kpa.shape, "lesion_mask")
    regions = {"lesion": lesion}
    if reference_mask is not None:
        regions["reference"] = check_mask(reference_mask, kpa.shape, "reference_mask")
    figures: dict = {"organ": organ}
    known_values = {}
    for prefix, region in regions.items():
        values = kpa[region]
        known = values[~np.isnan(values)]
        known_values[prefix] = known
        figures[f"{prefix}_pixels"] = int(values.size)
        figures[f"{prefix}_known_pixels"] = int(known.size)
        figures[f"{prefix}_unknown_fraction"] = 1.0 - known.size / values.size if values.size else math.nan
        reason = roi_problem(figures, prefix, "Q-box" if prefix == "lesion" else "reference", thresholds)
        if reason:
            return cannot_score(system, reason, figures)
    lesion_kpa = known_values["lesion"].astype(np.float64)
    figures.update(_stats(lesion_kpa, ("emean_kpa", "emax_kpa", "emin_kpa", "sd_kpa")))
    speed = kpa_to_speed(lesion_kpa, thresholds.tissue_density)
    figures.update(_stats(speed, ("mean_speed_ms", "max_speed_ms", "min_speed_ms", "sd_speed_ms")))
    if "reference" in known_values:
        ref_mean = float(known_values["reference"].mean())
        figures["reference_emean_kpa"] = ref_mean
        figures["eratio"] = figures["emean_kpa"] / ref_mean if ref_mean > 0 else math.nan
    score, label = interpret(organ, figures, thresholds)
    figures["rule"] = label
    return ScoreResult(system, score, f"{score}: {label}", figures)
