"""What intake changes on a stored case: pixel spacing, re-crop, withdrawal, and the optional raw patient id.

Mixed into :class:`usegan.store.Store`; every mutation runs in ``self.transaction()`` with its audit row.

* **Re-crop** replaces the case's B-mode by a new crop of the same original (the earlier B-mode stays in the image
  store and is listed in ``previous_bmodes``); it is refused once a review exists, because a reading refers to the
  image it was made on. Generations and pre-scores made before the re-crop no longer describe the B-mode, so the
  case goes back to ``new`` and :meth:`latest_generation` / :meth:`latest_prescore` skip them.
* **Withdrawal** is a soft delete: the case keeps every row and file, is hidden from the worklist and counts, and
  the reason is audited. A signed case cannot be withdrawn (amend it instead). Nothing is written to a withdrawn
  case afterwards (no generation, pre-score, draft, signature or re-crop: ``CaseWithdrawnError``).
* **Raw patient ids** are stored only when ``settings.store_patient_ids`` is on, and read back only for roles in
  :data:`ROLES_SEEING_PATIENT_IDS`.
"""

from __future__ import annotations

import numpy as np

from usegan.store.cases import _uint8_image, check_spacing
from usegan.store.errors import CaseWithdrawnError, ChangeRefusedError, NotFoundError, StaleImageError
from usegan.store.util import from_json, to_json
from usegan.vocab import CaseStatus, Role

CROP_FACT = "crop: "  # how the case notes' image-area fact starts (written at intake, replaced on re-crop)

SPACING_SOURCES = ("region", "pixel_spacing", "user", "sample", "unknown")
ROLES_SEEING_PATIENT_IDS = (Role.ADMIN, Role.CLINICIAN)  # who may see a stored raw Patient ID (never researcher/viewer)
_REVIEWED = (CaseStatus.DRAFT, CaseStatus.SIGNED, CaseStatus.AMENDED)


class IntakeMixin:
    def set_pixel_spacing(self, case_id: str, spacing_mm: tuple[float, float] | None, source: str, *, by: str) -> None:
        """Record (or clear, with ``None``) the case's ``(row, column)`` mm per pixel; audited with the old value."""
        spacing = check_spacing(spacing_mm)
        if source not in SPACING_SOURCES:
            raise ValueError(f"spacing source must be one of {SPACING_SOURCES}, got {source!r}")
        with self.transaction() as cur:
            before = cur.execute(
                "SELECT spacing_row_mm, spacing_col_mm, spacing_source FROM cases WHERE case_id = ?", [case_id]
            ).fetchone()
            if before is None:
                raise NotFoundError(f"no case {case_id!r}")
            row = [None, None, None] if spacing is None else [spacing[0], spacing[1], source]
            cur.execute(
                "UPDATE cases SET spacing_row_mm = ?, spacing_col_mm = ?, spacing_source = ?, updated_at = ? "
                "WHERE case_id = ?",
                [*row, self.clock(), case_id],
            )
            self.audit(by, "case.spacing", "case", case_id,
                {"spacing_mm": list(before[:2]) if before[0] is not None else None, "source": before[2]},
                {"spacing_mm": None if spacing is None else list(spacing), "source": row[2]},
            )  # fmt: skip

    def recrop_case(
        self,
        case_id: str,
        bmode: np.ndarray,
        crop: tuple[int, int, int, int],
        *,
        by: str,
        reason: str = "",
        pixel_spacing_mm: tuple[float, float] | None = None,
        expected_sha: str | None = None,
    ) -> str:
        """Replace the case's B-mode by a new crop ``(x, y, w, h)`` of its original; returns the new image's sha.

        Raises :class:`ChangeRefusedError` when the case has a review (draft or signed) or already has this image,
        :class:`CaseWithdrawnError` when it was withdrawn, and
        :class:`StaleImageError` when ``expected_sha`` (the B-mode the caller chose the crop on) is no longer the
        case's: another tab or user re-cropped it meanwhile, and a crop chosen on the old image would land elsewhere.
        ``pixel_spacing_mm`` keeps the case's calibration when omitted (a crop does not change the pixel size).
        """
        image = _uint8_image(bmode, "bmode")
        spacing = check_spacing(pixel_spacing_mm)
        if len(tuple(crop)) != 4:
            raise ValueError(f"crop must be (x, y, w, h), got {crop!r}")
        sha = self.images.put(image)
        now = self.clock()
        with self.transaction() as cur:
            row = cur.execute(
                "SELECT status, bmode_sha, crop, previous_bmodes, withdrawn_at, notes FROM cases WHERE case_id = ?",
                [case_id],
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no case {case_id!r}")
            status, old_sha, old_crop, previous, withdrawn_at, notes = row
            if withdrawn_at is not None:
                raise CaseWithdrawnError(f"case {case_id} was withdrawn; it cannot be re-cropped")
            if expected_sha is not None and old_sha != expected_sha:
                raise StaleImageError(
                    f"case {case_id} was re-cropped since this page showed it (image {expected_sha[:12]} is now "
                    f"{old_sha[:12]}); nothing was changed: reload the case and choose the crop again"
                )
            if status in _REVIEWED:
                raise ChangeRefusedError(
                    f"case {case_id} already has a {status} review made on its current image; it cannot be re-cropped "
                    "(withdraw it and create a new case instead)"
                )
            if sha == old_sha:
                raise ChangeRefusedError(
                    f"case {case_id} already has this image (crop {list(crop)}); nothing to re-crop"
                )
            history = [*(from_json(previous) or []), old_sha]
            sets = "bmode_sha = ?, height = ?, width = ?, crop = ?, previous_bmodes = ?, cropped_at = ?, "
            sets += "status = 'new', proposed_score = NULL, updated_at = ?, notes = ?"
            params = [sha, int(image.shape[0]), int(image.shape[1]), to_json(list(crop)), to_json(history), now, now,
                      recropped_notes(notes, crop)]  # fmt: skip
            if spacing is not None:
                sets += ", spacing_row_mm = ?, spacing_col_mm = ?"
                params += list(spacing)
            cur.execute(f"UPDATE cases SET {sets} WHERE case_id = ?", [*params, case_id])
            self.audit(by, "case.recrop", "case", case_id,
                {"bmode_sha": old_sha, "crop": from_json(old_crop), "status": status},
                {"bmode_sha": sha, "crop": list(crop), "reason": reason},
            )  # fmt: skip
        return sha

    def withdraw_case(self, case_id: str, reason: str, *, by: str) -> None:
        """Withdraw a case created by mistake (soft delete, audited); ``reason`` is required."""
        reason = str(reason or "").strip()
        if len(reason) < 3:
            raise ChangeRefusedError("a reason is required to withdraw a case (at least 3 characters)")
        now = self.clock()
        with self.transaction() as cur:
            row = cur.execute("SELECT status, withdrawn_at FROM cases WHERE case_id = ?", [case_id]).fetchone()
            if row is None:
                raise NotFoundError(f"no case {case_id!r}")
            if row[1] is not None:
                raise CaseWithdrawnError(f"case {case_id} is already withdrawn")
            if row[0] in (CaseStatus.SIGNED, CaseStatus.AMENDED):
                raise ChangeRefusedError(f"case {case_id} is {row[0]}: a signed reading is amended, not withdrawn")
            cur.execute(
                "UPDATE cases SET withdrawn_at = ?, withdrawn_by = ?, withdraw_reason = ?, updated_at = ? "
                "WHERE case_id = ?",
                [now, by, reason, now, case_id],
            )
            self.audit(by, "case.withdraw", "case", case_id, {"status": row[0]}, {"reason": reason})

    def withdrawn_cases(self, limit: int = 50):
        """Withdrawn cases, newest withdrawal first: ``case_id, created_at, withdrawn_at, withdrawn_by,
        withdraw_reason`` (a DataFrame). They are kept, with every file, for the archive and the audit."""
        if not 1 <= int(limit) <= 10_000:
            raise ValueError(f"limit must be 1..10000, got {limit!r}")
        sql = (
            "SELECT case_id, created_at, withdrawn_at, withdrawn_by, withdraw_reason FROM cases "
            "WHERE withdrawn_at IS NOT NULL ORDER BY withdrawn_at DESC, case_id LIMIT ?"
        )
        return self._cursor().execute(sql, [int(limit)]).df()

    def find_case_by_original(self, sha256: str) -> str | None:
        """The oldest case whose original file has this sha256 (the same file imported before), or ``None``."""
        row = (
            self._cursor()
            .execute("SELECT case_id FROM cases WHERE original_sha = ? ORDER BY created_at LIMIT 1", [sha256])
            .fetchone()
        )
        return row[0] if row else None

    def patient_real_id(self, patient_id: str, role: str) -> str | None:
        """The stored raw Patient ID behind a pseudonym, for roles allowed to see it; ``None`` when not stored.

        Raises ``PermissionError`` for any other role, so a caller cannot show it by mistake."""
        if role not in ROLES_SEEING_PATIENT_IDS:
            raise PermissionError(f"role {role!r} may not see raw patient identifiers")
        row = self._cursor().execute("SELECT real_id FROM patients WHERE patient_id = ?", [patient_id]).fetchone()
        return row[0] if row else None


def recropped_notes(notes: str | None, crop) -> str:
    """The case's notes with intake's image-area fact (``crop: ...``, one "; "-separated item) replaced by the
    re-crop's, so the notes a report prints do not contradict the image it shows; other notes are kept as written."""
    x, y, w, h = (int(v) for v in crop)
    fact = f"{CROP_FACT}re-cropped to {w} x {h} px at ({x}, {y}) of the original"
    items = [item for item in str(notes or "").split("; ") if item]
    kept = [item for item in items if not item.startswith(CROP_FACT)]
    return "; ".join([*kept, fact])
