"""The PDF report of a reviewed case (invention steps S5-S6): build it with :mod:`usegan.report` and archive it
once per signed review version."""

from __future__ import annotations

from usegan.report import build_report, report_data_for_case


def report_pdf(store, view, proposal=None, user: str | None = None, archive: bool = True) -> bytes:
    """PDF bytes for ``view`` (a :class:`usegan.services.service.CaseView`) in its mode.

    With ``archive`` and a signed review, the PDF is stored with the case unless this review version already has
    an archived report (so re-opening the page does not pile up copies). ``proposal`` is unused: the report
    prints the stored proposal, which :func:`usegan.services.service.save_review` recorded when signing.
    """
    case_id = view.case.case_id
    pdf = build_report(report_data_for_case(store, case_id, mode=view.mode))
    review = view.review
    if archive and user and review is not None and review.is_signed:
        if not any(r.get("review_id") == review.review_id for r in store.reports(case_id)):
            store.add_report(case_id, review.review_id, pdf, created_by=user)
    return pdf
