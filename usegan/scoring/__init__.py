"""Elasticity scoring: the algorithm's proposal (docs/domain.md section 3, invention step S4).

Scalar-level engines take inverted maps: :func:`score_tsukuba`, :func:`score_rago`, :func:`strain_ratio` on
normalised strain, :func:`qbox` on kPa. :func:`propose` takes a coloured elastogram and an ROI, inverts the
colour map and dispatches. Every engine returns a :class:`ScoreResult` with all the figures behind the score.
"""

from __future__ import annotations

from usegan.scoring.propose import propose
from usegan.scoring.rago import score_rago
from usegan.scoring.ratio import StrainScale, strain_ratio
from usegan.scoring.result import ALGORITHM_VERSION, ScoreResult, cannot_score
from usegan.scoring.roi import Polygon, Rect, RoiError, parse_rect, roi_from_dict, roi_iou, roi_to_mask
from usegan.scoring.swe import qbox
from usegan.scoring.systems import (
    HEADLINE_SCALE,
    ScoreScale,
    confirmed_scale,
    on_headline_scale,
    scale_named,
    system_for,
)
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.scoring.tsukuba import score_tsukuba

__all__ = [
    "HEADLINE_SCALE",
    "ScoreScale",
    "confirmed_scale",
    "on_headline_scale",
    "scale_named",
    "ALGORITHM_VERSION",
    "DEFAULT_THRESHOLDS",
    "Polygon",
    "Rect",
    "RoiError",
    "ScoreResult",
    "StrainScale",
    "Thresholds",
    "cannot_score",
    "parse_rect",
    "propose",
    "qbox",
    "roi_from_dict",
    "roi_iou",
    "roi_to_mask",
    "score_rago",
    "score_tsukuba",
    "strain_ratio",
    "system_for",
]
