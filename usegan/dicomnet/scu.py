"""The DICOM sender: C-STORE datasets to a PACS or scanner, and C-ECHO to test a destination.

>>> dest = Destination.parse("pacs.local:104:PACS")  # doctest: +SKIP
>>> results = send_datasets([sc_dataset, pdf_dataset], dest, calling_ae="USEGAN")  # doctest: +SKIP
>>> all(r.ok for r in results)  # doctest: +SKIP
True
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE

from usegan.dicomnet.contexts import VERIFICATION
from usegan.dicomnet.scp import check_ae_title

log = logging.getLogger("usegan.dicomnet.scu")

NO_RESPONSE = -1  # status recorded when the peer never answered (association dropped, timeout)


class SendError(RuntimeError):
    """A send could not start (no association) or not every object was accepted; the message says which."""


@dataclass(frozen=True)
class Destination:
    host: str  # host name or IP address of the receiving AE
    port: int  # its TCP port
    ae_title: str  # its AE title (the called AE)

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError(f"destination host is empty, got {self.host!r}")
        if not 1 <= int(self.port) <= 65535:
            raise ValueError(f"destination port must be 1-65535, got {self.port!r}")
        check_ae_title(self.ae_title, "destination AE title")

    @classmethod
    def parse(cls, text: str, ae_title: str | None = None) -> Destination:
        """Read ``HOST:PORT`` (AE from ``ae_title``) or ``HOST:PORT:AE`` (e.g.
        ``settings.dicom_destination``)."""
        parts = str(text).strip().split(":")
        if len(parts) == 3 and ae_title is None:
            ae_title = parts[2]
            parts = parts[:2]
        if len(parts) != 2 or not parts[0] or not parts[1].isdigit():
            raise ValueError(f"destination must be HOST:PORT or HOST:PORT:AE, got {text!r}")
        if ae_title is None:
            raise ValueError(f"destination {text!r} names no AE title: use HOST:PORT:AE or pass the AE title")
        return cls(host=parts[0], port=int(parts[1]), ae_title=ae_title)

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"


@dataclass(frozen=True)
class SendResult:
    sop_instance_uid: str  # the object sent
    sop_class_uid: str  # its SOP class
    status: int  # DIMSE status from the peer, or NO_RESPONSE
    comment: str = ""  # the peer's ErrorComment, or why it was not sent

    @property
    def ok(self) -> bool:
        """Success (0x0000) or a warning (0xB000-0xBFFF: stored, with coercion)."""
        return self.status == 0 or 0xB000 <= self.status <= 0xBFFF


def _load(item: Dataset | str | Path) -> Dataset:
    return item if isinstance(item, Dataset) else dcmread(Path(item))


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(meta.TransferSyntaxUID) if meta is not None and "TransferSyntaxUID" in meta else ExplicitVRLittleEndian


def send_datasets(
    items: Iterable[Dataset | str | Path],
    destination: Destination,
    *,
    calling_ae: str = "USEGAN",
    timeout_s: float = 30.0,
    raise_on_failure: bool = True,
) -> list[SendResult]:
    """C-STORE every dataset (or DICOM file path) in ``items`` over one association to ``destination``.

    Presentation contexts are proposed from each object's SOP class and its own transfer syntax (no
    transcoding). Returns one :class:`SendResult` per object, in order. Raises :class:`SendError` when no
    association can be made, and (unless ``raise_on_failure`` is False) when any object is not accepted.
    """
    datasets = [_load(item) for item in items]
    if not datasets:
        return []
    pairs = sorted({(str(ds.SOPClassUID), _transfer_syntax(ds)) for ds in datasets})
    if len(pairs) > 128:
        raise ValueError(f"at most 128 presentation contexts per association, got {len(pairs)}")
    ae = AE(ae_title=check_ae_title(calling_ae, "calling AE title"))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    for sop_class, syntax in pairs:
        ae.add_requested_context(sop_class, syntax)
    assoc = ae.associate(destination.host, destination.port, ae_title=destination.ae_title)
    if not assoc.is_established:
        raise SendError(f"no association with {destination}: rejected, aborted or unreachable")
    results: list[SendResult] = []
    try:
        for ds in datasets:
            uid, sop_class = str(ds.SOPInstanceUID), str(ds.SOPClassUID)
            if not assoc.is_established:
                results.append(SendResult(uid, sop_class, NO_RESPONSE, "association lost before sending"))
                continue
            try:
                status = assoc.send_c_store(ds)
            except (ValueError, RuntimeError) as exc:  # e.g. context refused by the peer
                results.append(SendResult(uid, sop_class, NO_RESPONSE, str(exc)))
                continue
            code = int(status.Status) if "Status" in status else NO_RESPONSE
            comment = str(status.get("ErrorComment", "")) if code != 0 else ""
            results.append(SendResult(uid, sop_class, code, comment))
    finally:
        if assoc.is_established:
            assoc.release()
    failed = [r for r in results if not r.ok]
    for r in failed:
        log.warning(
            "send %s to %s failed: status 0x%04X %s",
            r.sop_instance_uid,
            destination,
            r.status & 0xFFFF,
            r.comment,
        )
    if failed and raise_on_failure:
        first = failed[0]
        raise SendError(
            f"{len(failed)} of {len(results)} objects not accepted by {destination}; "
            f"first: {first.sop_instance_uid} status 0x{first.status & 0xFFFF:04X} {first.comment}".rstrip()
        )
    return results


def echo(destination: Destination, *, calling_ae: str = "USEGAN", timeout_s: float = 10.0) -> bool:
    """C-ECHO ``destination``: True when it associates and answers success (a "test connection" button)."""
    ae = AE(ae_title=check_ae_title(calling_ae, "calling AE title"))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate(destination.host, destination.port, ae_title=destination.ae_title)
    if not assoc.is_established:
        return False
    try:
        status = assoc.send_c_echo()
        return "Status" in status and int(status.Status) == 0
    finally:
        assoc.release()
