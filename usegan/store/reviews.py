"""Clinicians' readings: one chain of versions per (case, mode), drafts with optimistic locking, signing with the
report rendered once, and amendments as new versions.

A *reading* is a case read in one elastography mode: it names the generation it was made on (model version and
checkpoint hash), the proposal shown (a pre-score computed on that generation), the ROIs, the confirmed score on
that mode's and organ's scale (:func:`usegan.scoring.systems.confirmed_scale`), the conclusion, the signer and the
time. A case can carry a strain reading and an SWE reading; each has its own versions 1, 2, ... (the newest is the
*current* one), its own signature and amendments.

Every write names the ``row_version`` the caller last read of that reading (``expected_version``; 0 when there was
none; it keeps counting up across amendments, so an old number never matches a newer version); if the reading moved
on meanwhile the write is refused with :class:`StaleReviewError` ("changed by X at T — reload") instead of silently
overwriting another clinician's work. Signing needs what :func:`usegan.reading.requirements.missing_for_signing`
lists (:class:`SignBlockedError` names the missing items); a ``render_pdf`` callback given to :meth:`sign` /
:meth:`amend` renders the report once, inside the same transaction, and it is archived with its hash. A signed
version is never modified again: ``amend`` adds a new signed version (status ``amended``) with a mandatory reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from usegan.reading.requirements import missing_for_signing
from usegan.scoring.systems import confirmed_scale, scale_named
from usegan.store.errors import NotFoundError, ReviewSignedError, SignBlockedError, StaleReviewError
from usegan.store.limits import MAX_CONCLUSION, MAX_REASON, check_text
from usegan.store.rows import columns, record
from usegan.store.rows import insert as insert_row
from usegan.store.util import from_json, new_id, to_json
from usegan.vocab import FINAL_STATUSES, REVIEW_ROLES, Mode, ReviewStatus

DEFAULT_MODE = Mode.STRAIN  # the mode of callers written before readings had one


@dataclass(frozen=True)
class Review:
    """One version of a reading (case + mode)."""

    review_id: str
    case_id: str
    version: int  # 1 = original reading, 2.. = amendments
    status: str  # draft / signed / amended
    reviewer: str
    rois: dict  # the ROI(s) the clinician confirmed, as given
    confirmed_score: int | None  # on ``scale``
    conclusion: str
    row_version: int  # pass back as expected_version on the next write
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    signed_at: dt.datetime | None
    signed_by: str | None
    amends_review_id: str | None
    amend_reason: str | None
    mode: str = DEFAULT_MODE  # Mode: the mode this reading was made in
    scale: str | None = None  # key of the confirmed score's scale (usegan.scoring.systems), e.g. "tsukuba"
    generation_id: str | None = None  # the virtual elastogram read
    model_version: str | None = None  # ... the model that made it
    checkpoint_sha256: str | None = None  # ... and its checkpoint file
    prescore_id: str | None = None  # the algorithm's proposal shown (computed on generation_id)

    @property
    def is_signed(self) -> bool:
        return self.status in FINAL_STATUSES


_COLUMNS = columns(Review)
RenderPdf = Callable[[Review], bytes]


class ReviewsMixin:
    # -- reading -------------------------------------------------------------------------------------------------
    def _review(self, row) -> Review:
        return record(Review, _COLUMNS, row, {"rois": from_json})

    def _current_review(self, cur, case_id: str, mode: str | None) -> Review | None:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE case_id = ?"
        params: list = [case_id]
        if mode is None:
            sql += " ORDER BY updated_at DESC, version DESC LIMIT 1"
        else:
            sql, params = sql + " AND mode = ? ORDER BY version DESC LIMIT 1", [case_id, str(mode)]
        row = cur.execute(sql, params).fetchone()
        return None if row is None else self._review(row)

    def current_review(self, case_id: str, mode: str | None = None) -> Review | None:
        """The newest version of the case's reading in ``mode`` (of any mode, the last written, when None), or
        ``None`` when nobody read it yet."""
        return self._current_review(self._cursor(), case_id, mode)

    def readings(self, case_id: str) -> dict[str, Review]:
        """``{mode: current version}`` of every reading of a case."""
        rows = (
            self._cursor()
            .execute(
                f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE case_id = ? "
                "QUALIFY row_number() OVER (PARTITION BY mode ORDER BY version DESC) = 1 ORDER BY mode",
                [case_id],
            )
            .fetchall()
        )
        return {r.mode: r for r in map(self._review, rows)}

    def review_history(self, case_id: str, mode: str | None = None) -> list[Review]:
        """All versions of the case's readings (of ``mode`` if given), oldest first; signed versions stay readable
        after amendments."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE case_id = ?"
        params: list = [case_id]
        if mode is not None:
            sql, params = sql + " AND mode = ?", [case_id, str(mode)]
        rows = self._cursor().execute(sql + " ORDER BY mode, version", params).fetchall()
        return [self._review(row) for row in rows]

    def get_review(self, review_id: str) -> Review:
        row = (
            self._cursor()
            .execute(f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE review_id = ?", [review_id])
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no review {review_id!r}")
        return self._review(row)

    def signed_report(self, review_id: str) -> bytes | None:
        """The PDF archived when this version was signed, byte for byte (hash-checked), or None if there is none."""
        row = (
            self._cursor()
            .execute(
                "SELECT pdf_sha FROM reports WHERE review_id = ? ORDER BY created_at, report_id LIMIT 1", [review_id]
            )
            .fetchone()
        )
        return None if row is None else self.images.read_bytes(row[0])

    # -- checks --------------------------------------------------------------------------------------------------
    def _check_expected(self, current: Review | None, case_id: str, mode: str, expected_version: int) -> None:
        have = 0 if current is None else current.row_version
        if int(expected_version or 0) != have:
            if current is None:
                raise StaleReviewError(f"the {mode} reading of case {case_id} does not exist any more — reload")
            raise StaleReviewError(
                f"the {mode} reading of case {case_id} was changed by {current.updated_by} at "
                f"{current.updated_at:%Y-%m-%d %H:%M:%S} UTC — reload"
            )

    def _basis(self, cur, case_id: str, mode: str | None, generation_id: str | None) -> tuple[str, tuple]:
        """``(mode, (generation_id, model_version, checkpoint_sha256))`` for a write; the generation decides the
        mode when given (a reading is of the generation it was made on)."""
        if generation_id is None:
            return str(mode or DEFAULT_MODE), (None, None, None)
        row = cur.execute(
            "SELECT case_id, mode, model_version, checkpoint_sha256 FROM generations WHERE generation_id = ?",
            [generation_id],
        ).fetchone()
        if row is None or row[0] != case_id:
            raise ValueError(f"generation {generation_id!r} is not a generation of case {case_id}")
        if mode is not None and str(mode) != row[1]:
            raise ValueError(f"generation {generation_id} is a {row[1]} elastogram, not {mode}")
        return row[1], (generation_id, row[2], row[3])

    def _check_prescore(self, cur, case_id: str, prescore_id: str | None) -> None:
        if prescore_id is None:
            return
        row = cur.execute("SELECT case_id FROM prescores WHERE prescore_id = ?", [prescore_id]).fetchone()
        if row is None or row[0] != case_id:
            raise ValueError(f"pre-score {prescore_id!r} is not a proposal of case {case_id}")

    def missing_for_signing(self, review: Review) -> list[str]:
        """What ``review`` still lacks before it can be signed (empty = ready): see
        :mod:`usegan.reading.requirements`."""
        return self._missing(self._cursor(), review)

    def _missing(self, cur, review: Review) -> list[str]:
        proposal_generation = None
        if review.prescore_id is not None:
            row = cur.execute("SELECT generation_id FROM prescores WHERE prescore_id = ?", [review.prescore_id])
            found = row.fetchone()
            proposal_generation = found[0] if found else None
        scale = scale_named(review.scale)
        return missing_for_signing(
            review.rois,
            review.generation_id,
            proposal_generation,
            review.confirmed_score,
            review.conclusion,
            scale.name if scale else "",
        )

    def _require_signable(self, cur, review: Review) -> None:
        if missing := self._missing(cur, review):
            raise SignBlockedError(missing, f"the {review.mode} reading of case {review.case_id}")

    # -- writing -------------------------------------------------------------------------------------------------
    def _sync_case(self, cur, review: Review) -> None:
        cur.execute(
            "UPDATE cases SET status = ?, reviewer = ?, confirmed_score = ?, updated_at = ? WHERE case_id = ?",
            [review.status, review.reviewer, review.confirmed_score, review.updated_at, review.case_id],
        )

    def _write_review(self, cur, review: Review, insert: bool) -> None:
        row = {c: getattr(review, c) for c in _COLUMNS} | {"rois": to_json(review.rois)}
        if insert:
            insert_row(cur, "reviews", row)
        else:
            del row["review_id"]
            sets = ", ".join(f"{c} = ?" for c in row)
            cur.execute(f"UPDATE reviews SET {sets} WHERE review_id = ?", [*row.values(), review.review_id])
        self._sync_case(cur, review)

    def _archive_pdf(self, cur, review: Review, render_pdf: RenderPdf | None, actor: str) -> None:
        """Render the signed version's report once and archive it in this transaction (no report, no signature)."""
        if render_pdf is None:
            return
        pdf = bytes(render_pdf(review))
        if not pdf.startswith(b"%PDF-"):
            raise ValueError("the report renderer did not return a PDF")
        sha, report_id = self.images.put(pdf), new_id("R")
        insert_row(cur, "reports", {
            "report_id": report_id, "case_id": review.case_id, "review_id": review.review_id, "pdf_sha": sha,
            "created_at": review.updated_at, "created_by": actor, "mode": review.mode,
        })  # fmt: skip
        self.audit(actor, "report.add", "case", review.case_id, None,
            {"report_id": report_id, "review_id": review.review_id, "mode": review.mode, "sha256": sha},
        )  # fmt: skip

    def save_draft(
        self,
        case_id: str,
        reviewer: str,
        rois: dict,
        confirmed_score: int | None,
        conclusion: str,
        expected_version: int,
        *,
        mode: str | None = None,
        generation_id: str | None = None,
        prescore_id: str | None = None,
    ) -> Review:
        """Create or update the draft of the case's reading in ``mode`` (the generation's mode when
        ``generation_id`` is given; strain when neither is); returns it with its new ``row_version``.

        ``generation_id`` / ``prescore_id``: the elastogram read and the proposal shown (kept from the previous
        draft when omitted). ``expected_version``: the ``row_version`` you loaded (0 if there was no reading).
        Raises :class:`StaleReviewError` if someone saved in between, :class:`ReviewSignedError` once signed,
        ``ValueError`` for a score that is not on the reading's scale.
        """
        check_text("conclusion", conclusion, MAX_CONCLUSION)
        self.require_role(reviewer, REVIEW_ROLES)
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            organ = cur.execute("SELECT organ FROM cases WHERE case_id = ?", [case_id]).fetchone()[0]
            current_mode = mode
            if current_mode is None and generation_id is not None:
                current_mode = self._basis(cur, case_id, None, generation_id)[0]
            current = self._current_review(cur, case_id, current_mode or DEFAULT_MODE)
            mode, basis = self._basis(cur, case_id, current_mode, generation_id)
            self._check_expected(current, case_id, mode, expected_version)
            if current is not None and current.is_signed:
                raise ReviewSignedError(
                    f"the {mode} reading of case {case_id} was signed by {current.signed_by}; it can only be amended"
                )
            scale = confirmed_scale(organ, mode)
            score = scale.check(confirmed_score)
            self._check_prescore(cur, case_id, prescore_id)
            if generation_id is None and current is not None:
                basis = (current.generation_id, current.model_version, current.checkpoint_sha256)
            if prescore_id is None and current is not None:
                prescore_id = current.prescore_id
            now = self.clock()
            fields_now = dict(
                reviewer=reviewer, rois=rois or {}, confirmed_score=score, conclusion=conclusion or "",
                updated_at=now, updated_by=reviewer, mode=mode, scale=scale.system, generation_id=basis[0],
                model_version=basis[1], checkpoint_sha256=basis[2], prescore_id=prescore_id,
            )  # fmt: skip
            if current is None:
                review = Review(
                    review_id=new_id("V"), case_id=case_id, version=1, status=ReviewStatus.DRAFT, row_version=1,
                    created_at=now, signed_at=None, signed_by=None, amends_review_id=None, amend_reason=None,
                    **fields_now,
                )  # fmt: skip
            else:
                review = replace(current, row_version=current.row_version + 1, **fields_now)
            self._write_review(cur, review, insert=current is None)
            self.audit(reviewer, "review.save_draft", "review", review.review_id,
                None if current is None else _audit_view(current), _audit_view(review),
            )  # fmt: skip
        return review

    def sign(
        self,
        case_id: str,
        signer: str,
        expected_version: int,
        *,
        mode: str | None = None,
        render_pdf: RenderPdf | None = None,
    ) -> Review:
        """Sign the current draft of the reading in ``mode`` (None: the reading written last); after this it is
        immutable.

        Raises :class:`SignBlockedError` listing what is missing (lesion ROI, proposal on the generation read,
        confirmed score, conclusion). ``render_pdf(signed_review) -> bytes`` renders the report, archived in the
        same transaction: the PDF served afterwards is that one, byte for byte (:meth:`signed_report`).
        """
        self.require_role(signer, REVIEW_ROLES)
        with self.transaction() as cur:
            self._require_case(cur, case_id)  # a draft of a case withdrawn since is not signed
            current = self._current_review(cur, case_id, mode)
            if current is None:
                raise NotFoundError(f"case {case_id!r} has no draft {mode or ''} reading to sign")
            mode = current.mode
            self._check_expected(current, case_id, mode, expected_version)
            if current.is_signed:
                raise ReviewSignedError(
                    f"the {mode} reading of case {case_id} is already signed by {current.signed_by}"
                )
            self._require_signable(cur, current)
            now = self.clock()
            review = replace(
                current, status=ReviewStatus.SIGNED, signed_at=now, signed_by=signer, updated_at=now, updated_by=signer,
                row_version=current.row_version + 1,
            )  # fmt: skip
            self._write_review(cur, review, insert=False)
            self.audit(signer, "review.sign", "review", review.review_id, _audit_view(current), _audit_view(review))
            self._archive_pdf(cur, review, render_pdf, signer)
        return review

    def amend(
        self,
        case_id: str,
        reviewer: str,
        rois: dict,
        confirmed_score: int,
        conclusion: str,
        reason: str,
        expected_version: int,
        *,
        mode: str | None = None,
        generation_id: str | None = None,
        prescore_id: str | None = None,
        render_pdf: RenderPdf | None = None,
    ) -> Review:
        """Amend the signed reading in ``mode`` (None: the reading written last): a new, signed version with
        ``reason`` and its own report; the previous version stays as it was. ``generation_id`` / ``prescore_id``
        default to the amended version's."""
        check_text("conclusion", conclusion, MAX_CONCLUSION)
        check_text("reason", reason, MAX_REASON)
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"an amendment needs a reason, got {reason!r}")
        self.require_role(reviewer, REVIEW_ROLES)
        with self.transaction() as cur:
            current = self._current_review(cur, case_id, mode)
            if current is None or not current.is_signed:
                raise ValueError(f"case {case_id} has no signed {mode or ''} reading to amend: edit the draft instead")
            mode = current.mode
            self._check_expected(current, case_id, mode, expected_version)
            organ = cur.execute("SELECT organ FROM cases WHERE case_id = ?", [case_id]).fetchone()[0]
            scale = confirmed_scale(organ, mode)
            score = scale.check(confirmed_score)
            if generation_id is None:
                basis = (current.generation_id, current.model_version, current.checkpoint_sha256)
            else:
                basis = self._basis(cur, case_id, mode, generation_id)[1]
            self._check_prescore(cur, case_id, prescore_id)
            now = self.clock()
            review = Review(
                review_id=new_id("V"), case_id=case_id, version=current.version + 1, status=ReviewStatus.AMENDED,
                reviewer=reviewer, rois=rois or {}, confirmed_score=score, conclusion=conclusion or "",
                row_version=current.row_version + 1, created_at=now, updated_at=now, updated_by=reviewer,
                signed_at=now, signed_by=reviewer, amends_review_id=current.review_id, amend_reason=reason.strip(),
                mode=mode, scale=scale.system, generation_id=basis[0], model_version=basis[1],
                checkpoint_sha256=basis[2], prescore_id=prescore_id or current.prescore_id,
            )  # fmt: skip
            self._require_signable(cur, review)
            self._write_review(cur, review, insert=True)
            self.audit(reviewer, "review.amend", "review", review.review_id, _audit_view(current), _audit_view(review))
            self._archive_pdf(cur, review, render_pdf, reviewer)
        return review


def _audit_view(review: Review) -> dict:
    return {c: getattr(review, c) for c in _COLUMNS}
