"""Cases and their patients: create, read, dedupe by DICOM SOP Instance UID (attachments: :mod:`.attachments`).

Mixed into :class:`usegan.store.Store`; every mutation runs in ``self.transaction()`` with its audit row.
Images go to the content-addressed image store first, then the row that names them is committed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

import numpy as np

from usegan.store.errors import CaseWithdrawnError, NotFoundError, Refusal
from usegan.store.images import ImageStore
from usegan.store.limits import MAX_IDENTIFIER, MAX_NAME, MAX_NOTES, check_text
from usegan.store.rows import columns, insert, record
from usegan.store.util import from_json, to_json
from usegan.vocab import CaseStatus, LesionType, Mode, values

SOURCES = ("upload", "sample", "dicom", "phantom")
MODES = values(Mode)


class DuplicateCaseError(Refusal):
    """A DICOM instance (SOP Instance UID) is already stored; ``case_id`` is the existing case."""

    def __init__(self, message: str, case_id: str) -> None:
        super().__init__(message)
        self.case_id = case_id


@dataclass(frozen=True)
class Case:
    """One stored case. ``bmode()`` / ``original_bytes()`` load its files from the image store."""

    case_id: str
    patient_id: str | None
    organ: str
    side: str | None
    source: str  # upload / sample / dicom / phantom
    acquired_at: dt.datetime | None
    created_at: dt.datetime
    created_by: str
    bmode_sha: str  # PNG of the B-mode, (H, W) or (H, W, 3) uint8
    height: int
    width: int
    original_sha: str | None  # the file as received, byte for byte
    original_name: str | None
    notes: str
    sop_instance_uid: str | None
    dicom_uids: dict | None
    crop: list | None  # the crop box applied to a screen capture, as given
    status: str  # new / generated / draft / signed / amended
    exam_at: dt.datetime  # acquired_at, else created_at
    reviewer: str | None
    proposed_score: int | None
    confirmed_score: int | None
    updated_at: dt.datetime
    lesion_type: str | None = None  # a LesionType, known for phantoms and bundled samples; None for clinical cases
    spacing_row_mm: float | None = None  # physical size of one B-mode pixel down the rows, mm (None: uncalibrated)
    spacing_col_mm: float | None = None  # ... along the columns, mm
    spacing_source: str | None = None  # region / pixel_spacing / user / sample: where the spacing came from
    cropped_at: dt.datetime | None = None  # last re-crop (generations and pre-scores before it are of an older image)
    previous_bmodes: list | None = None  # image-store names of the B-modes replaced by re-crops, oldest first
    withdrawn_at: dt.datetime | None = None  # set when withdrawn (soft delete: hidden from the worklist)
    withdrawn_by: str | None = None
    withdraw_reason: str | None = None
    images: ImageStore = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @property
    def pixel_spacing_mm(self) -> tuple[float, float] | None:
        """``(row, column)`` size of one B-mode pixel in mm, or ``None`` when the case is not calibrated.

        The one accessor for every length and area shown in mm (ROIs, lesions, Q-boxes, calipers)."""
        if self.spacing_row_mm is None or self.spacing_col_mm is None:
            return None
        return float(self.spacing_row_mm), float(self.spacing_col_mm)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def require_active(self) -> None:
        """Raise :class:`CaseWithdrawnError` (saying by whom, when and why) if the case was withdrawn."""
        if self.withdrawn_at is not None:
            raise withdrawn_error(self.case_id, self.withdrawn_at, self.withdrawn_by, self.withdraw_reason)

    def bmode(self) -> np.ndarray:
        return self.images.get(self.bmode_sha)

    def original_bytes(self) -> bytes | None:
        return None if self.original_sha is None else self.images.read_bytes(self.original_sha)


_CASE_COLUMNS = columns(Case)


def withdrawn_error(case_id: str, at: dt.datetime, by: str | None, reason: str | None) -> CaseWithdrawnError:
    return CaseWithdrawnError(
        f"case {case_id} was withdrawn by {by} on {at:%Y-%m-%d} ({reason}); it is kept in the archive but no longer "
        "read or changed"
    )


def check_spacing(spacing) -> tuple[float, float] | None:
    """``(row, column)`` mm per pixel as two positive finite floats, or ``None``; ``ValueError`` otherwise."""
    if spacing is None:
        return None
    try:
        row, col = (float(v) for v in spacing)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pixel spacing must be (row_mm, column_mm), got {spacing!r}") from exc
    if not (np.isfinite(row) and np.isfinite(col) and 0 < row < 100 and 0 < col < 100):
        raise ValueError(f"pixel spacing must be two positive mm values under 100, got {spacing!r}")
    return row, col


def _uint8_image(array: np.ndarray, name: str, colour_only: bool = False) -> np.ndarray:
    arr = np.asarray(array)
    ok_shape = (arr.ndim == 3 and arr.shape[2] == 3) or (arr.ndim == 2 and not colour_only)
    if arr.dtype != np.uint8 or not ok_shape:
        wanted = "(H, W, 3)" if colour_only else "(H, W) or (H, W, 3)"
        raise ValueError(f"{name} must be a uint8 {wanted} array, got {arr.dtype} {arr.shape}")
    return arr


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


class CasesMixin:
    def create_case(
        self,
        bmode: np.ndarray,
        *,
        organ: str,
        created_by: str,
        side: str | None = None,
        source: str = "upload",
        patient_id: str | None = None,
        patient_name: str | None = None,
        acquired_at: dt.datetime | None = None,
        original_bytes: bytes | None = None,
        original_name: str | None = None,
        notes: str = "",
        dicom_uids: dict | None = None,
        crop: tuple | None = None,
        lesion_type: str | None = None,
        pixel_spacing_mm: tuple[float, float] | None = None,
        spacing_source: str | None = None,
        patient_real_id: str | None = None,
    ) -> str:
        """Store a new case and return its id (``C-YYYYMMDD-xxxxxxxx``).

        ``bmode``: (H, W) or (H, W, 3) uint8, as cropped for the model. ``patient_id`` is a pseudonym (a new
        ``P-...`` one is made when omitted); ``patient_name`` is kept only when ``settings.store_patient_names`` is
        on, otherwise dropped; ``patient_real_id`` (the scanner's Patient ID) likewise only with
        ``store_patient_ids``. ``pixel_spacing_mm``: ``(row, column)`` mm per B-mode pixel, with ``spacing_source``
        saying where it came from. ``dicom_uids["SOPInstanceUID"]`` must be new (:class:`DuplicateCaseError`).
        """
        spacing = check_spacing(pixel_spacing_mm)
        for what, value, limit in (
            ("notes", notes, MAX_NOTES),
            ("patient_id", patient_id, MAX_IDENTIFIER),
            ("side", side, MAX_IDENTIFIER),
            ("patient_name", patient_name, MAX_NAME),
            ("patient_real_id", patient_real_id, MAX_NAME),
            ("original_name", original_name, MAX_NAME),
        ):
            check_text(what, value, limit)
        bmode = _uint8_image(bmode, "bmode")
        if not isinstance(organ, str) or not organ.strip():
            raise ValueError(f"organ must be a non-empty string, got {organ!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        if lesion_type is not None and lesion_type not in values(LesionType):
            raise ValueError(f"lesion_type must be one of {values(LesionType)} or None, got {lesion_type!r}")
        if acquired_at is not None and not isinstance(acquired_at, dt.datetime):
            raise ValueError(f"acquired_at must be a datetime or None, got {acquired_at!r}")
        sop_uid = (dicom_uids or {}).get("SOPInstanceUID") or (dicom_uids or {}).get("sop_instance_uid")
        now = self.clock()
        case_id = f"C-{now:%Y%m%d}-{secrets.token_hex(4)}"
        patient_id = patient_id or f"P-{secrets.token_hex(5)}"
        name = patient_name if self.store_patient_names else None
        real_id = (str(patient_real_id).strip() or None) if patient_real_id and self.store_patient_ids else None
        bmode_sha = self.images.put(bmode)
        original_sha = self.images.put(original_bytes) if original_bytes is not None else None
        row = {
            "case_id": case_id,
            "patient_id": patient_id,
            "organ": organ.strip(),
            "side": side,
            "source": source,
            "acquired_at": acquired_at,
            "created_at": now,
            "created_by": created_by,
            "bmode_sha": bmode_sha,
            "height": int(bmode.shape[0]),
            "width": int(bmode.shape[1]),
            "original_sha": original_sha,
            "original_name": original_name,
            "notes": notes or "",
            "sop_instance_uid": sop_uid,
            "dicom_uids": to_json(dicom_uids),
            "crop": to_json(list(crop) if crop is not None else None),
            "status": CaseStatus.NEW,
            "exam_at": acquired_at or now,
            "updated_at": now,
            "lesion_type": lesion_type,
            "spacing_row_mm": None if spacing is None else spacing[0],
            "spacing_col_mm": None if spacing is None else spacing[1],
            "spacing_source": None if spacing is None else (spacing_source or "unknown"),
        }
        with self.transaction() as cur:
            if sop_uid:
                existing = cur.execute("SELECT case_id FROM cases WHERE sop_instance_uid = ?", [sop_uid]).fetchone()
                if existing:
                    raise DuplicateCaseError(
                        f"DICOM instance {sop_uid} is already stored as case {existing[0]}", existing[0]
                    )
            cur.execute(
                "INSERT INTO patients (patient_id, real_name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [patient_id, name, now],
            )
            if name:
                cur.execute("UPDATE patients SET real_name = ? WHERE patient_id = ?", [name, patient_id])
            if real_id:
                cur.execute("UPDATE patients SET real_id = ? WHERE patient_id = ?", [real_id, patient_id])
            insert(cur, "cases", row)
            self.audit(
                created_by,
                "case.create",
                "case",
                case_id,
                None,
                {k: v for k, v in row.items() if k not in ("created_at", "updated_at")},
            )
        return case_id

    def get_case(self, case_id: str) -> Case:
        row = (
            self._cursor()
            .execute(f"SELECT {', '.join(_CASE_COLUMNS)} FROM cases WHERE case_id = ?", [case_id])
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no case {case_id!r}")
        decode = {"dicom_uids": from_json, "crop": from_json, "previous_bmodes": from_json}
        return record(Case, _CASE_COLUMNS, row, decode, images=self.images)

    def find_case_by_sop_uid(self, sop_instance_uid: str) -> str | None:
        """The case id holding this DICOM SOP Instance UID, or ``None`` (dedupe before creating)."""
        row = (
            self._cursor()
            .execute("SELECT case_id FROM cases WHERE sop_instance_uid = ?", [sop_instance_uid])
            .fetchone()
        )
        return row[0] if row else None

    def patient_name(self, patient_id: str) -> str | None:
        row = self._cursor().execute("SELECT real_name FROM patients WHERE patient_id = ?", [patient_id]).fetchone()
        return row[0] if row else None

    def _require_case(self, cur, case_id: str) -> tuple:
        """``(status, proposed_score)`` of a case that may still be written to (exists, not withdrawn)."""
        row = cur.execute(
            "SELECT status, proposed_score, withdrawn_at, withdrawn_by, withdraw_reason FROM cases WHERE case_id = ?",
            [case_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no case {case_id!r}")
        if row[2] is not None:
            raise withdrawn_error(case_id, *row[2:])
        return row[:2]
