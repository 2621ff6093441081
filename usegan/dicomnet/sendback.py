"""Send a case's results back to the PACS / scanner: the virtual elastogram (SC) and the signed report (PDF).

Both go into the study the B-mode came from. The study and patient identifiers are read from the case's
original DICOM file (kept byte for byte by the store), because the store's own rows hold only pseudonyms.
Used by ``usegan dicom send CASE`` and by the review page's "send to PACS" button.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field

from usegan.dicomnet.derived import StudyRef, build_encapsulated_pdf, build_secondary_capture
from usegan.dicomnet.scu import Destination, SendResult, send_datasets

log = logging.getLogger("usegan.dicomnet.sendback")


class SendBackError(ValueError):
    """The case has nothing that can be sent (not from DICOM, no elastogram); the message says what."""


@dataclass(frozen=True)
class SendBackReport:
    case_id: str  # the case sent
    destination: str  # AE@host:port
    results: list[SendResult] = field(default_factory=list)  # one per object sent, SC first
    report_sent: bool = False  # False when the case has no signed report yet (only the SC went)

    def summary(self) -> str:
        ok = sum(r.ok for r in self.results)
        what = "elastogram + signed report" if self.report_sent else "elastogram (no signed report yet)"
        return f"case {self.case_id}: {ok}/{len(self.results)} objects accepted by {self.destination} ({what})"


def study_ref_for_case(case) -> StudyRef:
    """The original study of a ``source="dicom"`` case, read from its archived original file."""
    from pydicom import dcmread

    data = case.original_bytes() if case.source == "dicom" else None
    if not data:
        raise SendBackError(
            f"case {case.case_id} did not arrive over DICOM (source {case.source!r}): "
            "there is no study to file its results into"
        )
    return StudyRef.from_dataset(dcmread(io.BytesIO(data), stop_before_pixels=True))


def build_case_objects(store, case_id: str, *, mode: str | None = None) -> tuple[list, bool]:
    """The datasets to send for a case: ``([SC, PDF?], report_included)``.

    The PDF is included only when the case's current reading of that mode is signed and its report is archived.
    Raises :class:`SendBackError` when the case has no generated elastogram or did not come from DICOM.
    """
    case = store.get_case(case_id)
    study = study_ref_for_case(case)
    generation = store.latest_generation(case_id, mode=mode)
    if generation is None:
        raise SendBackError(f"case {case_id} has no generated elastogram{f' ({mode})' if mode else ''} to send")
    datasets = [
        build_secondary_capture(
            generation.elastogram(), study, model_version=generation.model_version, mode=generation.mode
        )
    ]
    review = store.current_review(case_id, generation.mode)  # the reading of this mode, never the other's
    pdf = store.signed_report(review.review_id) if review is not None and review.is_signed else None
    if pdf is not None:  # the report archived at signing, byte for byte
        datasets.append(build_encapsulated_pdf(pdf, study, title=f"Virtual elastography report {case_id}"))
    return datasets, len(datasets) == 2


def send_case(
    store,
    case_id: str,
    destination: Destination,
    *,
    calling_ae: str = "USEGAN",
    mode: str | None = None,
    timeout_s: float = 30.0,
) -> SendBackReport:
    """Build and C-STORE a case's SC (and signed report) to ``destination``; raises on any refusal.

    Raises :class:`SendBackError` (nothing to send) or :class:`usegan.dicomnet.scu.SendError` (not accepted).
    """
    datasets, report_sent = build_case_objects(store, case_id, mode=mode)
    results = send_datasets(datasets, destination, calling_ae=calling_ae, timeout_s=timeout_s)
    report = SendBackReport(case_id, str(destination), results, report_sent)
    log.info("sent back %s", report.summary())
    return report
