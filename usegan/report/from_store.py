"""Gather a :class:`ReportData` for a stored reading: its own generation, proposal, ROIs, score and signature."""

from __future__ import annotations

from usegan.report.data import ReportData


def report_data_for_reading(store, review, *, department: str | None = None, language: str | None = None) -> ReportData:
    """Everything the report of one reading version needs, taken from that version only: the generation it was
    read on (never a newer one, never the other mode's), the proposal shown, its ROIs, score and scale.

    Raises ``ValueError`` when the reading names no generation (a migrated reading made before any elastogram).
    ``department`` / ``language`` default to ``settings.department`` / ``settings.report_language``.
    """
    from usegan.provenance import provenance_for_model
    from usegan.settings import get_settings

    settings = get_settings()
    if review.generation_id is None:
        raise ValueError(f"the {review.mode} reading of case {review.case_id} names no generated elastogram")
    case = store.get_case(review.case_id)
    generation = store.get_generation(review.generation_id)
    prescore = store.get_prescore(review.prescore_id) if review.prescore_id else None
    rois = (review.rois or None) or (prescore.roi if prescore else {}) or {}
    elastogram = generation.elastogram()
    return ReportData(
        case_id=case.case_id,
        patient_pseudonym=case.patient_id or "-",
        exam_date=case.exam_at,
        organ=case.organ,
        side=case.side,
        bmode=case.bmode(),
        elastogram=elastogram,
        mode=generation.mode,
        model_version=generation.model_version,
        checkpoint_sha256=generation.checkpoint_sha256,
        rois={k: v for k, v in rois.items() if isinstance(v, dict)},
        colour_scale=generation.colour_scale,
        proposal=prescore.result if prescore else None,
        confirmed_score=review.confirmed_score,
        scale=review.scale,
        conclusion=review.conclusion,
        reviewer=review.signed_by or review.reviewer,
        signed_at=review.signed_at,
        status=review.status,
        version=review.version,
        amend_reason=review.amend_reason,
        notes=case.notes,
        provenance=provenance_for_model(store, generation.model_version, generation.checkpoint_sha256),
        pixel_spacing_mm=_pixel_spacing(case),
        department=department or settings.department,
        language=language or settings.report_language,
        uncertainty=_uncertainty(generation, elastogram.shape[:2]),
        recrop=_recrop(case),
    )


def _recrop(case) -> tuple[int, int, int, int] | None:
    """``(x, y, w, h)`` of the original the case's B-mode was re-cropped to after intake; None when it never was."""
    if not (case.previous_bmodes and case.crop):
        return None
    x, y, w, h = (int(v) for v in case.crop)
    return x, y, w, h


def _uncertainty(generation, shape: tuple[int, int]):
    """The model's SD map stored with ``generation`` when it has the elastogram's ``shape`` (what the review page's
    ROI confidence used), else None."""
    sd = generation.uncertainty() if generation.has_uncertainty else None
    return sd if sd is not None and sd.shape == shape else None


def report_data_for_case(
    store, case_id: str, *, mode: str | None = None, department: str | None = None, language: str | None = None
) -> ReportData:
    """The report of the case's current reading in ``mode`` (the one written last when None). Raises
    ``ValueError`` when there is no reading with a generated elastogram yet."""
    review = store.current_review(case_id, mode)
    if review is None:
        raise ValueError(f"case {case_id} has no {mode or ''} reading yet".replace("  ", " "))
    return report_data_for_reading(store, review, department=department, language=language)


def _pixel_spacing(case) -> tuple[float, float] | None:
    """``(row, column)`` mm per B-mode pixel when the case knows it (scanner region, DICOM Pixel Spacing or a
    reader's calibration), else None: lengths are then printed in pixels, and the report says so."""
    return case.pixel_spacing_mm
