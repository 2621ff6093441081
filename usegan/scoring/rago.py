"""Rago 5-point elasticity score for thyroid nodules on strain elastography [Rago07].

1. elasticity in the whole nodule;  2. elasticity in a large part of the nodule;  3. elasticity only at the
periphery;  4. no elasticity in the nodule;  5. no elasticity in the nodule or in the area behind it.

The same pixel features and hardness grade as :mod:`usegan.scoring.tsukuba`, with one difference: Rago 5 asks
about the tissue *behind* (deeper than) the nodule, so grade 5 uses the posterior part of the ring
(``posterior_hard_fraction``) instead of the whole ring. The BGR (cyst) sign is flagged and scored 1, as in
Tsukuba.
"""

from __future__ import annotations

import numpy as np

from usegan.scoring.features import lesion_features
from usegan.scoring.result import ScoreResult, cannot_score
from usegan.scoring.systems import RAGO
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.scoring.tsukuba import check_lesion, hardness_grade
from usegan.vocab import ScoreSystem

SYSTEM = ScoreSystem.RAGO
SCALE = RAGO  # labels and wording: usegan.scoring.systems


def score_rago(
    strain: np.ndarray,
    lesion_mask: np.ndarray,
    box_mask: np.ndarray | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ScoreResult:
    """Rago score of a thyroid nodule; arguments and cannot-score cases as in ``score_tsukuba``."""
    figures = lesion_features(strain, lesion_mask, box_mask, thresholds)
    reason = check_lesion(figures, thresholds)
    if reason:
        return cannot_score(SYSTEM, reason, figures)
    # Grade as Tsukuba, but with the posterior ring standing in for the whole ring.
    posterior = {**figures, "ring_hard_fraction": figures["posterior_hard_fraction"]}
    grade, rule = hardness_grade(posterior, thresholds, surroundings="posterior (behind-nodule)")
    figures["hardness_grade"] = grade
    if figures["bgr_sign"]:
        figures["rule"] = "BGR sign (cystic): scored 1 whatever the hardness grade"
        return ScoreResult(SYSTEM, 1, SCALE.bgr_label, figures)
    figures["rule"] = rule
    return ScoreResult(SYSTEM, grade, SCALE.label(grade), figures)
