"""Tsukuba (Itoh/Ueno) 5-point elasticity score for breast strain elastography [Itoh06].

1. whole lesion strains like its surroundings;  2. mostly strained, scattered hard areas (mosaic);
3. periphery strained, centre hard;  4. whole lesion hard;  5. lesion and surrounding tissue hard.

Pixel rule (thresholds in :mod:`usegan.scoring.thresholds`): a pixel is *hard* when its normalised strain is
below ``hard_strain`` (the blue third). The grade is the highest class whose condition holds:

* 5 if the lesion's hard fraction >= ``whole_hard_fraction`` and the ring around it >= ``ring_hard_fraction``;
* 4 if the lesion's hard fraction >= ``whole_hard_fraction``;
* 3 if the eroded core's hard fraction >= ``centre_hard_fraction``;
* 2 if the lesion's hard fraction >= ``scattered_hard_fraction``;
* 1 otherwise.

Every condition only gets easier to meet as lesion pixels get harder, so making a lesion harder never lowers
the grade. **One exception, by design:** a blue-green-red layered lesion (the BGR sign of a cyst) is a
categorical sign, not a hardness grade: it is scored 1 with ``figures["bgr_sign"] = True`` so that the
reviewer sees the flag and the cyst is not read as a stiff solid mass (its blue top layer is an artefact,
not stiffness).
"""

from __future__ import annotations

import math

import numpy as np

from usegan.scoring.features import lesion_features
from usegan.scoring.result import ScoreResult, cannot_score
from usegan.scoring.systems import TSUKUBA
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.vocab import ScoreSystem

SYSTEM = ScoreSystem.TSUKUBA
SCALE = TSUKUBA  # labels and wording: usegan.scoring.systems


def check_lesion(figures: dict, thresholds: Thresholds) -> str | None:
    """The reason the lesion features cannot be graded, or None when they can."""
    n = figures["lesion_pixels"]
    if n == 0:
        return "the lesion ROI has zero area inside the image"
    if n < thresholds.min_lesion_pixels:
        return f"the lesion ROI has {n} pixels, fewer than the {thresholds.min_lesion_pixels} needed"
    unknown = figures["lesion_unknown_fraction"]
    if unknown > thresholds.max_unknown_fraction:
        return (
            f"{unknown:.0%} of the lesion ROI is not on the colour map (unknown colours), "
            f"more than {thresholds.max_unknown_fraction:.0%}"
        )
    if figures["core_known_pixels"] == 0:
        return "the lesion is too thin to separate its centre from its rim"
    return None


def hardness_grade(
    figures: dict, thresholds: Thresholds = DEFAULT_THRESHOLDS, surroundings: str = "ring"
) -> tuple[int, str]:
    """Grade 1-5 from :func:`lesion_features` output (BGR not considered) and the rule that decided it.

    ``figures["ring_hard_fraction"]`` is the hard fraction of the tissue that decides grade 5; ``surroundings``
    names it in the rule (Rago passes its posterior ring as ``"posterior (behind-nodule)"``).
    """
    t = thresholds
    hard, core, ring = (
        figures["lesion_hard_fraction"],
        figures["core_hard_fraction"],
        figures["ring_hard_fraction"],
    )
    if hard >= t.whole_hard_fraction:
        if not math.isnan(ring) and ring >= t.ring_hard_fraction:
            return 5, (
                f"lesion hard fraction {hard:.2f} >= {t.whole_hard_fraction:.2f} and {surroundings} hard fraction "
                f"{ring:.2f} >= {t.ring_hard_fraction:.2f}"
            )
        return (
            4,
            f"lesion hard fraction {hard:.2f} >= {t.whole_hard_fraction:.2f}, {surroundings} hard fraction {ring:.2f}",
        )
    if core >= t.centre_hard_fraction:
        return (
            3,
            f"core hard fraction {core:.2f} >= {t.centre_hard_fraction:.2f} (rim {figures['rim_hard_fraction']:.2f})",
        )
    if hard >= t.scattered_hard_fraction:
        return 2, (
            f"lesion hard fraction {hard:.2f} >= {t.scattered_hard_fraction:.2f} "
            f"(mosaic index {figures['mosaic_index']:.2f}, {figures['hard_components']} hard areas)"
        )
    return 1, f"lesion hard fraction {hard:.2f} < {t.scattered_hard_fraction:.2f}"


def score_tsukuba(
    strain: np.ndarray,
    lesion_mask: np.ndarray,
    box_mask: np.ndarray | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ScoreResult:
    """Tsukuba score of a lesion on a normalised strain map.

    Args:
        strain: ``(H, W)`` float, normalised strain in [0, 1] (1 = soft, 0 = hard), NaN = unknown pixel.
        lesion_mask: ``(H, W)`` bool, the lesion ROI.
        box_mask: optional ``(H, W)`` bool elastography box; pixels outside it count as unknown.

    Returns a :class:`ScoreResult` with ``system="tsukuba"``; ``score=None`` with a reason when the ROI is
    empty, too small, too thin or mostly unknown colours. Raises ``ValueError`` on wrong shapes or
    out-of-range strain.
    """
    figures = lesion_features(strain, lesion_mask, box_mask, thresholds)
    reason = check_lesion(figures, thresholds)
    if reason:
        return cannot_score(SYSTEM, reason, figures)
    grade, rule = hardness_grade(figures, thresholds)
    figures["hardness_grade"] = grade
    if figures["bgr_sign"]:
        figures["rule"] = "BGR sign (cyst): scored 1 whatever the hardness grade"
        return ScoreResult(SYSTEM, 1, SCALE.bgr_label, figures)
    figures["rule"] = rule
    return ScoreResult(SYSTEM, grade, SCALE.label(grade), figures)
