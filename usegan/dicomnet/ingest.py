"""Import the DICOM spool (``settings.inbox_dir``) into cases: the app calls it, ``usegan ingest`` too.

For each complete spool file, oldest first:
1. read frame 0 with :func:`usegan.dicomio.read_dicom` (anything unreadable -> quarantine);
2. de-duplicate by SOP Instance UID against the store (a re-sent image creates no second case);
3. create a ``source="dicom"`` case through the one intake pipeline (:class:`usegan.intake.pipeline.Intake`):
   cropped to the scanner's declared tissue region, else to the detected image area of a screen capture, else
   the whole image; calibrated in mm; the file byte for byte, the UIDs, the keyed pseudonym, organ and side;
4. move the file to ``archive_dir/YYYY-MM-DD/``; a file the store refuses as bad goes to ``quarantine_dir``
   with ``<name>.reason.txt`` next to it.
The store row is committed before the file moves, so a crash between the two only makes the next run see a
duplicate and archive it. Store-side failures (database busy, disk) stop the run and leave the file waiting.

Pseudonyms (:mod:`usegan.intake.pseudonym`): the same keyed ``P-...`` id as every other intake path. The real
identifiers stay only in the archived original file, which send-back reads to file results into the right study.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from usegan.dicomnet.spool import list_spool, remove_stale_parts
from usegan.intake.pseudonym import pseudonym, pseudonym_key  # noqa: F401  (re-exported)
from usegan.vocab import Organ

log = logging.getLogger("usegan.dicomnet.ingest")

INGEST_USER = "dicom-ingest"  # the actor named in the audit log for imported cases
from usegan.intake.pipeline import KNOWN_ORGANS  # noqa: E402  (BodyPartExamined values mapped to an organ)


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
    from usegan.intake.pipeline import Intake

    intake = Intake(store, settings)
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
            outcome = _import_one(intake, data, path.name, default_organ, created_by)
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


def _import_one(intake, data: bytes, name: str, default_organ: str, created_by: str):
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
    existing = intake.store.find_case_by_sop_uid(uid)
    if existing is not None:
        return "duplicate", existing
    try:
        image = intake.read(data, name)
    except Exception as exc:  # DicomReadError and whatever decoding a broken file raises
        raise _FileFault(f"{type(exc).__name__}: {exc}") from exc
    try:
        return "imported", intake.create_case(image, user=created_by, default_organ=default_organ, source="dicom")
    except DuplicateCaseError as exc:  # created by someone else since our lookup
        return "duplicate", exc.case_id
    except ValueError as exc:  # the store refuses a value taken from the file
        raise _FileFault(f"refused by the case store: {exc}") from exc
