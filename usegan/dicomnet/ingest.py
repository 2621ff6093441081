"""Import the DICOM spool (``settings.inbox_dir``) into cases: the app calls it, ``usegan ingest`` too.

For each complete spool file, oldest first:
1. read frame 0 with :func:`usegan.dicomio.read_dicom` (anything unreadable -> quarantine);
2. de-duplicate by SOP Instance UID against the store (a re-sent image creates no second case);
3. create a ``source="dicom"`` case: the B-mode (cropped to the scanner's declared tissue region when there
   is one), the file byte for byte, the UIDs, a *pseudonymous* patient id (below), organ and side;
4. move the file to ``archive_dir/YYYY-MM-DD/``; a file the store refuses as bad goes to ``quarantine_dir``
   with ``<name>.reason.txt`` next to it.
The store row is committed before the file moves, so a crash between the two only makes the next run see a
duplicate and archive it. Store-side failures (database busy, disk) stop the run and leave the file waiting.

Pseudonyms: the scanner's Patient ID becomes ``P-`` + the first 10 hex digits of HMAC-SHA256 keyed with a
random per-installation secret (``<data_dir>/pseudonym.key``, made on first use), so images of one patient
share a pseudonym but the id cannot be reversed or guessed without the key. The real identifiers stay only in
the archived original file, which send-back reads to file results into the right study.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import logging
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usegan.dicomnet.spool import list_spool, remove_stale_parts
from usegan.vocab import Organ, values

log = logging.getLogger("usegan.dicomnet.ingest")

INGEST_USER = "dicom-ingest"  # the actor named in the audit log for imported cases
KNOWN_ORGANS = values(Organ)  # BodyPartExamined values we map to an organ
_SIDES = {"L": "left", "R": "right"}


@dataclass
class IngestReport:
    imported: list[tuple[str, str]] = field(default_factory=list)  # (file name, new case id)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file name, existing case id)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    waiting: int = 0  # files left in the spool (limit reached, or the run stopped on a store error)
    error: str = ""  # why the run stopped early, "" when it did not

    def summary(self) -> str:
        """One line for logs and the dashboard."""
        text = (
            f"{len(self.imported)} imported, {len(self.duplicates)} duplicate(s), "
            f"{len(self.quarantined)} quarantined, {self.waiting} waiting"
        )
        return f"{text}; stopped: {self.error}" if self.error else text


@dataclass(frozen=True)
class QuarantinedFile:
    path: Path  # the quarantined DICOM file
    reason: str  # why it was not imported
    quarantined_at: dt.datetime  # when


def pseudonym(patient_id: str, key: bytes) -> str | None:
    """``P-`` + 10 hex digits of HMAC-SHA256(key, patient_id); ``None`` for an empty id (the store makes one)."""
    value = str(patient_id or "").strip()
    if not value:
        return None
    return "P-" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def pseudonym_key(data_dir: Path) -> bytes:
    """The installation's pseudonym secret, created (32 random bytes, mode 0600) on first use."""
    path = Path(data_dir) / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
                handle.flush()
                os.fsync(handle.fileno())
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"pseudonym key {path} is too short ({len(key)} bytes); restore it from a backup")
    return key


def _move(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` without overwriting (``name.1.dcm``, ``name.2.dcm`` ... on collision)."""
    folder.mkdir(parents=True, exist_ok=True)
    target, n = folder / path.name, 0
    while target.exists():
        n += 1
        target = folder / f"{path.stem}.{n}{path.suffix}"
    shutil.move(str(path), str(target))  # a rename on one file system, copy + delete across
    return target


def quarantine(path: Path, reason: str, quarantine_dir: Path) -> Path:
    """Move a spool file to the quarantine folder and write ``<name>.reason.txt`` beside it."""
    target = _move(path, Path(quarantine_dir))
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    target.with_name(target.name + ".reason.txt").write_text(f"{stamp}\n{reason}\n", encoding="utf-8")
    log.warning("quarantined %s: %s", path.name, reason)
    return target


def list_quarantine(settings) -> list[QuarantinedFile]:
    """Quarantined files with their reasons, newest first (for the admin page)."""
    folder = Path(settings.quarantine_dir)
    items = []
    for path in folder.glob("*.dcm") if folder.is_dir() else []:
        note = path.with_name(path.name + ".reason.txt")
        lines = note.read_text(encoding="utf-8").splitlines() if note.exists() else []
        when = dt.datetime.fromisoformat(lines[0]) if lines else dt.datetime.fromtimestamp(path.stat().st_mtime)
        items.append(QuarantinedFile(path, "\n".join(lines[1:]) or "(no reason recorded)", when))
    return sorted(items, key=lambda q: q.quarantined_at, reverse=True)


def requeue(path: Path, settings) -> Path:
    """Put a quarantined file back into the spool (after fixing what was wrong); drops its reason note."""
    path = Path(path)
    if path.parent.resolve() != Path(settings.quarantine_dir).resolve() or not path.is_file():
        raise ValueError(f"not a file in the quarantine folder, got {str(path)!r}")
    path.with_name(path.name + ".reason.txt").unlink(missing_ok=True)
    return _move(path, Path(settings.inbox_dir))


def _acquired_at(ds) -> dt.datetime | None:
    """Acquisition, else content, else study date and time; ``None`` when absent or unreadable."""
    pairs = [("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"), ("StudyDate", "StudyTime")]
    text = str(ds.get("AcquisitionDateTime", "") or "")[:14]
    candidates = [text] + [str(ds.get(d, "") or "") + str(ds.get(t, "") or "")[:6] for d, t in pairs]
    for value in candidates:
        value = value.split(".")[0]
        for fmt in ("%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
            try:
                return dt.datetime.strptime(value, fmt)
            except ValueError:
                continue
    return None


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    from usegan.imageio import to_float01

    return np.clip(np.rint(to_float01(pixels) * 255), 0, 255).astype(np.uint8)


def case_fields(data: bytes, ds, name: str, key: bytes, default_organ: str, store_names: bool) -> dict:
    """Everything ``store.create_case`` needs from one received file (raises for an unusable file).

    ``data`` is the file, ``ds`` its header as read by ``dcmread(..., stop_before_pixels=True)``.
    """
    from usegan.dicomio import read_dicom

    image = read_dicom(data)
    region = image.image_region()
    bmode = _to_uint8(region.apply(image.pixels) if region is not None else image.pixels)
    body_part = str(ds.get("BodyPartExamined", "") or "").strip().lower()
    organ = body_part if body_part in KNOWN_ORGANS else default_organ
    notes = f"received over DICOM from {image.manufacturer or 'an unnamed scanner'}"
    if image.n_frames > 1:
        notes += f"; frame 1 of {image.n_frames} shown"
    if organ != body_part:
        notes += f"; organ not stated (BodyPartExamined={body_part.upper() or 'empty'}), assumed {organ}"
    laterality = str(ds.get("ImageLaterality", "") or ds.get("Laterality", "") or "").strip().upper()
    uids = {
        "SOPInstanceUID": image.sop_instance_uid,
        "SOPClassUID": image.sop_class_uid,
        "StudyInstanceUID": image.study_instance_uid,
        "SeriesInstanceUID": image.series_instance_uid,
        "Modality": image.modality,
        "TransferSyntaxUID": image.transfer_syntax_uid,
        "NumberOfFrames": image.n_frames,
    }
    return {
        "bmode": np.ascontiguousarray(bmode),
        "organ": organ,
        "side": _SIDES.get(laterality),
        "source": "dicom",
        "patient_id": pseudonym(image.patient_id, key),
        "patient_name": (str(ds.get("PatientName", "")) or None) if store_names else None,
        "acquired_at": _acquired_at(ds),
        "original_bytes": data,
        "original_name": name,
        "notes": notes,
        "dicom_uids": uids,
        "crop": None if region is None else (region.x, region.y, region.w, region.h),
    }


def ingest_spool(
    store,
    settings=None,
    *,
    default_organ: str = Organ.BREAST,
    limit: int | None = None,
    created_by: str = INGEST_USER,
) -> IngestReport:
    """Import every complete file in ``settings.inbox_dir`` into ``store`` (the single DB writer).

    ``default_organ`` applies when the file's BodyPartExamined is not breast / thyroid / liver (noted in the
    case's notes). ``limit`` caps the files handled this call (the app's timer keeps each call short).
    Returns an :class:`IngestReport`; never raises for a bad file, only for a bad argument.
    """
    from usegan.store import StoreError

    if settings is None:
        from usegan.settings import get_settings

        settings = get_settings()
    if default_organ not in KNOWN_ORGANS:
        raise ValueError(f"default_organ must be one of {KNOWN_ORGANS}, got {default_organ!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, got {limit!r}")
    remove_stale_parts(settings.inbox_dir)
    files = list_spool(settings.inbox_dir)
    report = IngestReport()
    key = pseudonym_key(settings.data_dir)
    archive = Path(settings.archive_dir) / dt.date.today().isoformat()
    for index, path in enumerate(files):
        if limit is not None and index >= limit:
            report.waiting = len(files) - index
            break
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # replaced by a duplicate send or taken by another importer
            continue
        try:
            outcome = _import_one(store, data, path.name, key, default_organ, settings, created_by)
        except _FileFault as exc:  # the file is at fault: set it aside with the reason
            report.quarantined.append((path.name, str(exc)))
            quarantine(path, str(exc), settings.quarantine_dir)
            continue
        except (StoreError, OSError) as exc:  # not the file's fault: keep it in the spool for the next run
            report.error = f"{type(exc).__name__}: {exc}"
            report.waiting = len(files) - index
            log.error("ingest stopped at %s: %s", path.name, report.error)
            break
        kind, case_id = outcome
        (report.imported if kind == "imported" else report.duplicates).append((path.name, case_id))
        _move(path, archive)
    if files:
        log.info("ingest: %s", report.summary())
    return report


class _FileFault(Exception):
    """A spool file that cannot become a case; the message is the reason written next to it."""


def _import_one(store, data: bytes, name: str, key: bytes, default_organ: str, settings, created_by: str):
    """Return ``("imported" | "duplicate", case_id)``; raise :class:`_FileFault` for a bad file."""
    from pydicom import dcmread

    from usegan.store import DuplicateCaseError

    try:
        header = dcmread(io.BytesIO(data), stop_before_pixels=True)
        uid = str(header.get("SOPInstanceUID", "") or "")
    except Exception as exc:  # pydicom raises many types on corrupt bytes
        raise _FileFault(f"not a readable DICOM file: {type(exc).__name__}: {exc}") from exc
    if not uid:
        raise _FileFault("no SOP Instance UID: cannot de-duplicate, refusing to import")
    existing = store.find_case_by_sop_uid(uid)
    if existing is not None:
        return "duplicate", existing
    try:
        values = case_fields(data, header, name, key, default_organ, settings.store_patient_names)
    except Exception as exc:  # DicomReadError and whatever decoding a broken file raises
        raise _FileFault(f"{type(exc).__name__}: {exc}") from exc
    try:
        return "imported", store.create_case(**values, created_by=created_by)
    except DuplicateCaseError as exc:  # created by someone else since our lookup
        return "duplicate", exc.case_id
    except ValueError as exc:  # the store refuses a value taken from the file
        raise _FileFault(f"refused by the case store: {exc}") from exc
