"""The PDF report of a reading (invention steps S5-S6). A signed version's report is rendered once, when it is
signed (:mod:`usegan.services.signing`), archived with its hash and served from the archive unchanged ever after."""

from __future__ import annotations

from usegan.services.signing import signed_pdf


def report_pdf(store, view, proposal=None, user: str | None = None, archive: bool = True) -> bytes | None:
    """The archived PDF of the reading shown in ``view`` (a :class:`usegan.services.service.CaseView`) when it is
    signed, byte for byte the file made at signing; ``None`` for a draft or no reading (a draft has no report).

    ``proposal`` and ``archive`` are unused (kept for callers): the report prints the proposal stored with the
    reading, and a signed version's report is always archived.
    """
    return signed_pdf(store, view.review, user or (view.review.signed_by if view.review else "") or "system")
