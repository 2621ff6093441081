"""Strain ratio: mean strain in a reference (fat) ROI / mean strain in the lesion ROI [Zhi10].

A stiffer lesion strains less, so a higher ratio is more suspicious; published breast cut-offs span about
2.2-4.8, and ``Thresholds.strain_ratio_cutoff`` (3.0) is the common choice. The ratio is computed on the
*displayed*, normalised strain (what a clinician's ROI measures on the screen), so it depends on the box's
normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.scoring.features import check_mask, check_strain, region_stats
from usegan.scoring.result import ScoreResult, cannot_score
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.vocab import ScoreSystem

SYSTEM = ScoreSystem.STRAIN_RATIO


@dataclass(frozen=True)
class StrainScale:
    """How the displayed, normalised strain ``n`` in [0, 1] maps back to strain relative to the box.

    ``"linear"``: the display is proportional to strain (the ratio of displayed means is the strain ratio).
    ``"log"``: ``n = 0.5 + ln(s / s_ref) / (2 ln R)``, so ``s / s_ref = R ** (2 n - 1)`` (the phantom's display,
    :mod:`usegan.phantom.render`, and its ``meta.json`` ``"scale"`` entry).
    """

    kind: str = "linear"  # "linear" or "log"
    range_factor: float = 8.0  # R of the log display: blue = s_ref / R, red = s_ref * R

    def __post_init__(self) -> None:
        if self.kind not in ("linear", "log"):
            raise ValueError(f"strain scale kind must be 'linear' or 'log', got {self.kind!r}")
        if not self.range_factor > 1:
            raise ValueError(f"range_factor must be > 1, got {self.range_factor!r}")

    def relative(self, normalised: np.ndarray) -> np.ndarray:
        """Displayed normalised strain (any shape, NaN kept) -> strain in units of the scale's reference."""
        n = np.asarray(normalised, dtype=np.float64)
        return n if self.kind == "linear" else self.range_factor ** (2.0 * n - 1.0)


LINEAR = StrainScale()


def roi_problem(figures: dict, prefix: str, what: str, thresholds: Thresholds) -> str | None:
    """Why the ROI with stats under ``prefix`` cannot be measured, or None."""
    n = figures[f"{prefix}_pixels"]
    if n == 0:
        return f"the {what} ROI has zero area inside the image"
    if n < thresholds.min_roi_pixels:
        return f"the {what} ROI has {n} pixels, fewer than the {thresholds.min_roi_pixels} needed"
    unknown = figures[f"{prefix}_unknown_fraction"]
    if unknown > thresholds.max_unknown_fraction:
        return (
            f"{unknown:.0%} of the {what} ROI is not on the colour map (unknown colours), "
            f"more than {thresholds.max_unknown_fraction:.0%}"
        )
    return None


def strain_ratio(
    strain: np.ndarray,
    lesion_mask: np.ndarray,
    reference_mask: np.ndarray,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    scale: StrainScale = LINEAR,
) -> ScoreResult:
    """Strain ratio of a lesion against a reference ROI: mean relative strain (``scale``) ref / lesion.

    Args:
        strain: ``(H, W)`` float, normalised strain in [0, 1] (1 = soft), NaN = unknown.
        lesion_mask, reference_mask: ``(H, W)`` bool ROIs.

    Returns ``system="strain_ratio"``, ``score`` 1 (ratio below the cut-off) or 2 (at or above: suspicious),
    with ``figures["strain_ratio"]``, both means and the cut-off; ``score=None`` with a reason for empty, tiny
    or
    mostly-unknown ROIs, or a lesion whose mean strain is below one colour-map step (the ratio is unbounded).
    """
    strain = check_strain(strain)
    lesion = check_mask(lesion_mask, strain.shape, "lesion_mask")
    reference = check_mask(reference_mask, strain.shape, "reference_mask")
    figures: dict = {}
    for prefix, region in (("lesion", lesion), ("reference", reference)):
        stats = region_stats(strain, region, thresholds.hard_strain)
        figures.update({f"{prefix}_{k}": v for k, v in stats.items()})
    figures["overlap_pixels"] = int((lesion & reference).sum())
    figures["cutoff"] = thresholds.strain_ratio_cutoff
    for prefix, what in (("lesion", "lesion"), ("reference", "reference")):
        reason = roi_problem(figures, prefix, what, thresholds)
        if reason:
            return cannot_score(SYSTEM, reason, figures)
    # On a linear display a lesion at the blue end reads 0 strain; a log display keeps it at s_ref / R.
    if scale.kind == "linear" and figures["lesion_mean_strain"] < thresholds.min_lesion_strain:
        return cannot_score(
            SYSTEM,
            f"the lesion's mean strain {figures['lesion_mean_strain']:.4f} is below one colour-map step "
            f"({thresholds.min_lesion_strain:.4f}); the ratio is unbounded",
            figures,
        )
    relative = scale.relative(strain)
    figures["scale"] = scale.kind if scale.kind == "linear" else f"log, R = {scale.range_factor:g}"
    figures["lesion_mean_relative_strain"] = float(np.nanmean(relative[lesion]))
    figures["reference_mean_relative_strain"] = float(np.nanmean(relative[reference]))
    ratio = figures["reference_mean_relative_strain"] / figures["lesion_mean_relative_strain"]
    figures["strain_ratio"] = ratio
    if ratio >= thresholds.strain_ratio_cutoff:
        return ScoreResult(
            SYSTEM, 2, f"strain ratio {ratio:.2f} >= {thresholds.strain_ratio_cutoff:g}: suspicious", figures
        )
    return ScoreResult(SYSTEM, 1, f"strain ratio {ratio:.2f} < {thresholds.strain_ratio_cutoff:g}", figures)
