"""Validation of the score engines against phantom ground truth.

For each simulated case (:mod:`usegan.phantom`) the engines read the *coloured* true elastograms, as they would a
scanner's screen, and are compared with the labels the phantom computed from its *true* maps:

* Tsukuba: ``propose(strain_rgb, "strain", lesion mask)`` vs ``labels["tsukuba"]`` (the phantom scores the true
  normalised strain with the same rule table, so any disagreement comes from colour quantisation / inversion);
* strain ratio: the reference ROI is the subcutaneous fat in the box (pixels at the fat modulus), the display
  scale from the phantom's render config; compared with the ratio of the true strains over the same ROIs;
* SWE Emean: ``propose(swe_rgb, "swe", lesion mask)`` vs ``labels["emean_kpa"]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from usegan.vocab import LESIONS, Mode, Organ, ScoreSystem

CLASSES = (1, 2, 3, 4, 5, None)
LESION_TYPES = LESIONS


@dataclass
class ValidationReport:
    """Agreement figures over ``n_cases`` phantom cases."""

    n_cases: int = 0  # cases scored
    tsukuba_agree: int = 0  # proposed Tsukuba class == ground truth (both None counts as agreement)
    confusion: dict = field(default_factory=dict)  # (truth, proposed) -> count; None = cannot score
    ratio_n: int = 0  # cases with a strain ratio on both sides
    ratio_within_10pct: int = 0  # |proposed / true - 1| <= 0.10
    ratio_max_rel_error: float = 0.0  # worst relative error
    emean_n: int = 0  # cases with an SWE Emean on both sides
    emean_within_2kpa: int = 0  # |proposed - true| <= 2 kPa
    emean_max_abs_error: float = 0.0  # worst absolute error, kPa
    emean_saturated: int = 0  # cases whose lesion reaches the top of the SWE colour scale (values beyond are lost)
    emean_display_within_2kpa: int = 0  # vs the truth clipped to the colour scale (what the display can carry)
    disagreements: list = field(default_factory=list)  # (seed, lesion type, truth, proposed) of misses

    @property
    def tsukuba_agreement(self) -> float:
        return self.tsukuba_agree / self.n_cases if self.n_cases else math.nan

    @property
    def ratio_agreement(self) -> float:
        return self.ratio_within_10pct / self.ratio_n if self.ratio_n else math.nan

    @property
    def emean_agreement(self) -> float:
        return self.emean_within_2kpa / self.emean_n if self.emean_n else math.nan

    def confusion_table(self) -> str:
        """Rows = ground truth, columns = proposed; "-" = cannot score."""
        names = ["1", "2", "3", "4", "5", "-"]
        lines = ["truth\\proposed " + " ".join(f"{n:>5}" for n in names)]
        for t, tn in zip(CLASSES, names, strict=True):
            counts = [self.confusion.get((t, p), 0) for p in CLASSES]
            lines.append(f"{tn:>15} " + " ".join(f"{c:>5}" for c in counts))
        return "\n".join(lines)

    def summary(self) -> str:
        return (
            f"cases: {self.n_cases}\n"
            f"Tsukuba agreement: {self.tsukuba_agree}/{self.n_cases} = {self.tsukuba_agreement:.1%}\n"
            f"strain ratio within 10%: {self.ratio_within_10pct}/{self.ratio_n} = {self.ratio_agreement:.1%} "
            f"(worst relative error {self.ratio_max_rel_error:.1%})\n"
            f"SWE Emean within 2 kPa: {self.emean_within_2kpa}/{self.emean_n} = {self.emean_agreement:.1%} "
            f"(worst error {self.emean_max_abs_error:.2f} kPa; {self.emean_saturated} cases reach the top of the "
            f"colour scale; vs the truth clipped to the scale: {self.emean_display_within_2kpa}/{self.emean_n})\n"
            f"confusion matrix (Tsukuba):\n{self.confusion_table()}"
        )


def validate_case(case, report: ValidationReport) -> None:
    """Score one :class:`usegan.phantom.case.PhantomCase` and add it to ``report``."""
    from usegan.colormaps import swe_colormap
    from usegan.phantom.render import box_mask
    from usegan.scoring.propose import propose
    from usegan.scoring.ratio import StrainScale

    labels, lesion = case.labels, case.mask
    if not lesion.any():
        return
    render = case.render_config
    scale = StrainScale("log", render.range_factor)
    inside = box_mask(lesion.shape, case.box)
    # The fat a clinician would put the reference ROI on: pixels at the fat modulus, inside the box.
    reference = inside & ~lesion & np.isclose(case.stiffness_kpa, case.params.fat_kpa)
    has_reference = int(reference.sum()) >= 4
    result = propose(case.strain_rgb, Mode.STRAIN, lesion, reference if has_reference else None, strain_scale=scale)
    truth = labels[ScoreSystem.TSUKUBA]
    report.n_cases += 1
    report.confusion[(truth, result.score)] = report.confusion.get((truth, result.score), 0) + 1
    if truth == result.score:
        report.tsukuba_agree += 1
    else:
        report.disagreements.append((case.seed, case.params.lesion_type, truth, result.score))
    # Cysts: the displayed strain is the BGR artefact by construction, so the engine declines a ratio there.
    if has_reference and result.secondary and result.secondary[0].scored:
        true_ratio = float(case.strain[reference].mean() / case.strain[lesion].mean())
        error = abs(result.secondary[0].figures["strain_ratio"] / true_ratio - 1.0)
        report.ratio_n += 1
        report.ratio_within_10pct += error <= 0.10
        report.ratio_max_rel_error = max(report.ratio_max_rel_error, error)
    if labels.get("emean_kpa") is not None:
        cmap = swe_colormap(render.swe_vmin_kpa, render.swe_vmax_kpa)
        swe = propose(case.swe_rgb, Mode.SWE, lesion, organ=Organ.BREAST, colormap=cmap)
        if swe.scored:
            error = abs(swe.figures["emean_kpa"] - labels["emean_kpa"])
            shown = np.clip(case.stiffness_kpa[lesion], render.swe_vmin_kpa, render.swe_vmax_kpa).mean()
            report.emean_n += 1
            report.emean_within_2kpa += error <= 2.0
            report.emean_display_within_2kpa += abs(swe.figures["emean_kpa"] - shown) <= 2.0
            report.emean_saturated += swe.figures["lesion_at_scale_max_fraction"] > 0
            report.emean_max_abs_error = max(report.emean_max_abs_error, error)


def validate(n_cases: int = 500, size: int = 128, seed: int = 0, progress=None) -> ValidationReport:
    """Simulate ``n_cases`` lesion cases (types round-robin, seeds from ``seed``) and validate each."""
    from usegan.phantom.case import case_seed, random_case_of_type

    report = ValidationReport()
    for i in range(n_cases):
        case = random_case_of_type(case_seed(seed, i), LESION_TYPES[i % len(LESION_TYPES)], size)
        validate_case(case, report)
        if progress:
            progress(i + 1, n_cases)
    return report
