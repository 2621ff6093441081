"""What a reading needs before it can be signed (or an amendment, which is signed too).

One function decides, the store enforces it and the page lists its answer, so a signature never lacks: a lesion
ROI, the algorithm's proposal computed on the very generation the reader saw, a confirmed score, a conclusion.
"""

from __future__ import annotations

LESION_ROI = "a lesion ROI (draw it in yellow on the B-mode)"
PROPOSAL = "the algorithm's proposal computed on the elastogram shown"
SCORE = "a confirmed score"
CONCLUSION = "a conclusion"


def missing_for_signing(
    rois: dict | None,
    generation_id: str | None,
    proposal_generation_id: str | None,
    confirmed_score: int | None,
    conclusion: str | None,
    scale_name: str = "",
) -> list[str]:
    """The items still missing, in the order a reader fixes them (empty = ready to sign).

    ``proposal_generation_id`` is the generation the stored proposal was computed on (None: no proposal); it must
    be the reading's ``generation_id``, otherwise the proposal belongs to another model or mode.
    """
    missing = []
    if not (rois or {}).get("lesion"):
        missing.append(LESION_ROI)
    if generation_id is None or proposal_generation_id is None or proposal_generation_id != generation_id:
        missing.append(PROPOSAL)
    if confirmed_score is None:
        missing.append(SCORE + (f" on {scale_name}" if scale_name else ""))
    if not (conclusion or "").strip():
        missing.append(CONCLUSION)
    return missing
