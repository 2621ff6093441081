"""Gather a :class:`ReportData` for a stored case: latest generation, pre-score and current review."""

from __future__ import annotations

from usegan.report.data import ReportData
from usegan.vocab import ReviewStatus


def report_data_for_case(
    store, case_id: str, *, mode: str | None = None, department: str | None = None, language: str | None = None
) -> ReportData:
    """Everything the report needs from the store. Raises ``ValueError`` when the case has no elastogram yet.

    The model card's ``trained_on`` (registry) decides the "trained on simulated phantoms" wording.
    ``department`` / ``language`` default to ``settings.department`` / ``settings.report_language``.
    """
    from usegan.settings import get_settings

    settings = get_settings()
    case = store.get_case(case_id)
    generation = store.latest_generation(case_id, mode=mode)
    if generation is None:
        raise ValueError(f"case {case_id} has no generated elastogram{f' in mode {mode}' if mode else ''} yet")
    prescore = store.latest_prescore(case_id)
    review = store.current_review(case_id)
    phantoms = False
    try:
        card = store.registry.get(generation.model_version).card
        phantoms = "phantom" in str(card.get("trained_on", "")).lower()
    except KeyError:
        phantoms = False
    rois = (review.rois if review and review.rois else None) or (prescore.roi if prescore else {}) or {}
    return ReportData(
        case_id=case.case_id,
        patient_pseudonym=case.patient_id or "-",
        exam_date=case.exam_at,
        organ=case.organ,
        side=case.side,
        bmode=case.bmode(),
        elastogram=generation.elastogram(),
        mode=generation.mode,
        model_version=generation.model_version,
        checkpoint_sha256=generation.checkpoint_sha256,
        rois={k: v for k, v in rois.items() if isinstance(v, dict)},
        colour_scale=generation.colour_scale,
        proposal=prescore.result if prescore else None,
        confirmed_score=review.confirmed_score if review else None,
        conclusion=review.conclusion if review else "",
        reviewer=review.reviewer if review else None,
        signed_at=review.signed_at if review else None,
        status=review.status if review else ReviewStatus.DRAFT,
        amend_reason=review.amend_reason if review else None,
        notes=case.notes,
        trained_on_phantoms=phantoms,
        department=department or settings.department,
        language=language or settings.report_language,
    )
