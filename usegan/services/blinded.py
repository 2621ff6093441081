"""Blinded reading: a reader scores a case before the proposal and the virtual elastogram are revealed, then
again after the reveal. The research audit compares both phases - agreement and reading time - to measure how
much the proposal moves readers (:func:`usegan.research.stats.blinded_comparison`).

Before the reveal the reader sees the B-mode with the lesion ROI outlined where one is known, and the real
elastogram of the mode where one is attached; nothing generated and no proposal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.research.gallery import ROI_COLOURS
from usegan.scoring import ScoreResult
from usegan.scoring.systems import on_headline_scale
from usegan.services.service import generate_for_case, open_case, score_rois
from usegan.ui.overlay import outline, stamp
from usegan.ui.roi_canvas import roi_masks


@dataclass(frozen=True)
class BlindedView:
    """What the reader sees before the reveal."""

    case_id: str
    organ: str
    mode: str
    bmode: np.ndarray  # (H, W, 3) uint8 with the lesion / reference ROIs outlined where known
    real: np.ndarray | None  # the attached real elastogram of the mode, outlined, or None
    real_source: str | None
    rois: dict  # {"lesion": roi, "reference": roi} from the case's review or newest proposal; may be empty


@dataclass(frozen=True)
class Reveal:
    """What the reader sees after committing the blinded score."""

    generation_id: str
    model_version: str
    elasto: np.ndarray  # (H, W + strip, 3) uint8: VIRTUAL elastogram with outlines and its label strip
    caption: str  # "VIRTUAL STRAIN elastogram - model x"
    proposal: ScoreResult  # the algorithm's proposal on the ROIs (score None when it cannot score)
    proposed_score: int | None  # the proposal when it is a number on the organ's headline scale, else None


def queue(store, reader: str, mode: str, limit: int = 50):
    """Cases ``reader`` can still read blinded in ``mode``: a DataFrame (case_id, organ, exam_at, status)."""
    return store.blinded_queue(reader, mode, limit)


def open_blinded(store, case_id: str, mode: str) -> BlindedView:
    """The blinded view of a case in ``mode`` (raises ``usegan.store.NotFoundError`` for an unknown case)."""
    view = open_case(store, case_id, mode)
    masks = roi_masks(view.rois, view.bmode.shape[:2])
    real = None if view.real is None else outline(view.real, masks, ROI_COLOURS)
    return BlindedView(case_id, view.case.organ, str(mode), outline(view.bmode, masks, ROI_COLOURS), real,
                       view.real_source, view.rois)  # fmt: skip


def reveal(store, blinded: BlindedView, elastographer, user: str) -> Reveal:
    """Generate (or load) the case's virtual elastogram with ``elastographer`` and the proposal on its ROIs."""
    generation = generate_for_case(store, blinded.case_id, elastographer, user)
    elasto = generation.elastogram()
    proposal = score_rois(elasto, blinded.mode, generation.colour_scale, blinded.rois, blinded.organ)
    masks = roi_masks(blinded.rois, elasto.shape[:2])
    caption = f"VIRTUAL {blinded.mode.upper()} elastogram - model {generation.model_version}"
    shown = stamp(outline(elasto, masks, ROI_COLOURS), f"VIRTUAL - {generation.model_version}")
    on_scale = proposal.score is not None and on_headline_scale(proposal.system, blinded.organ)
    return Reveal(generation.generation_id, generation.model_version, shown, caption, proposal,
                  int(proposal.score) if on_scale else None)  # fmt: skip


def record_blinded(store, blinded: BlindedView, reader: str, score: int, seconds: float) -> str:
    """Store the score given before the reveal; returns the session id."""
    return store.start_blinded_reading(blinded.case_id, blinded.mode, reader, score, seconds)


def record_unblinded(store, session_id: str, reader: str, score: int, seconds: float, shown: Reveal) -> None:
    """Store the score given after the reveal, with the generation and proposal that were revealed."""
    store.finish_blinded_reading(
        session_id, reader, score, seconds,
        generation_id=shown.generation_id, proposed_score=shown.proposed_score, proposal_system=shown.proposal.system,
    )  # fmt: skip
