"""DICOM pieces of the dashboard: the review page's send-back button and the admins' quarantine view.

The pages only decide what to show; these helpers decide whether send-back applies to a case, run it with the
configured destination, and turn every failure into one short message (never a traceback).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


class SendBackFailed(RuntimeError):
    """Send-back did not go through; the message is short and says what to do."""


@dataclass(frozen=True)
class SendBackAvailability:
    shown: bool  # whether the review page shows the button at all
    destination: object | None  # usegan.dicomnet.scu.Destination when configured and valid
    note: str  # why it is hidden / unusable, "" when it can be used

    @property
    def usable(self) -> bool:
        return self.shown and self.destination is not None


def sendback_availability(case, settings) -> SendBackAvailability:
    """Whether ``case`` (a ``usegan.store.Case``) can be sent back with ``settings.dicom_destination``.

    Hidden when no destination is configured (send-back is off) or when the case did not arrive over DICOM (there
    is no study to file results into). A configured but malformed destination shows the button disabled with
    the reason, so an administrator notices the typo.
    """
    from usegan.dicomnet.scu import Destination

    text = str(settings.dicom_destination or "").strip()
    if not text:
        return SendBackAvailability(False, None, "send-back is off (USEGAN_DICOM_DESTINATION is not set)")
    if case.source != "dicom":
        return SendBackAvailability(False, None, f"case came from {case.source!r}, not over DICOM")
    try:
        destination = Destination.parse(text)
    except ValueError as exc:
        return SendBackAvailability(True, None, f"USEGAN_DICOM_DESTINATION is not usable: {exc}")
    return SendBackAvailability(True, destination, "")


def send_back(store, case_id: str, settings, *, mode: str | None = None, timeout_s: float = 15.0) -> str:
    """C-STORE the case's virtual elastogram (and signed report, if any) to the configured destination.

    Returns the one-line summary (``case ...: 2/2 objects accepted by PACS@host:port (...)``). Raises
    :class:`SendBackFailed` with a short message when nothing can be sent, the destination is unreachable or
    refuses an object.
    """
    from usegan.dicomnet.scu import Destination, SendError
    from usegan.dicomnet.sendback import SendBackError, send_case

    try:
        destination = Destination.parse(settings.dicom_destination)
    except ValueError as exc:
        raise SendBackFailed(f"the send-back destination is not configured correctly: {exc}") from exc
    try:
        report = send_case(
            store, case_id, destination, calling_ae=settings.dicom_ae_title, mode=mode, timeout_s=timeout_s
        )
    except SendBackError as exc:
        raise SendBackFailed(str(exc)) from exc
    except SendError as exc:
        raise SendBackFailed(
            f"{exc}; check that {destination} is running and accepts {settings.dicom_ae_title}"
        ) from exc
    except (OSError, RuntimeError) as exc:  # sockets, pynetdicom internals
        raise SendBackFailed(f"sending to {destination} failed: {type(exc).__name__}: {exc}") from exc
    return report.summary()


QUARANTINE_COLUMNS = ["file", "reason", "quarantined_at", "size_kb"]


def quarantine_table(settings) -> pd.DataFrame:
    """The quarantine folder as a table, newest first: file name, reason, time (UTC), size in kB."""
    from usegan.dicomnet.ingest import list_quarantine

    rows = []
    for item in list_quarantine(settings):
        size = item.path.stat().st_size if item.path.exists() else 0
        rows.append(
            {
                "file": item.path.name,
                "reason": item.reason,
                "quarantined_at": item.quarantined_at,
                "size_kb": round(size / 1024, 1),
            }
        )
    return pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)


def requeue_file(name: str, settings) -> Path:
    """Move the quarantined file called ``name`` back into the spool; returns its new path.

    Only a bare file name inside the quarantine folder is accepted (no path separators), so a crafted name cannot
    move anything else. Raises ``ValueError`` naming the file otherwise.
    """
    from usegan.dicomnet.ingest import requeue

    if not name or Path(name).name != name:
        raise ValueError(f"expected a file name from the quarantine list, got {name!r}")
    return requeue(Path(settings.quarantine_dir) / name, settings)
