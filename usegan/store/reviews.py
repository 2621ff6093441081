"""Clinician reviews: drafts with optimistic locking, signing, and amendments as new versions.

A case has a chain of reviews, version 1, 2, ... The newest is the *current* one. Every write names the
``row_version`` the caller last read (``expected_version``; 0 when there was no review yet; it keeps counting
up across amendments, so an old number never matches a newer version); if the review moved on meanwhile the
write is refused with :class:`StaleReviewError` ("changed by X at T — reload") instead of
silently overwriting another clinician's work. A signed review is never modified again: ``amend`` adds a new
version (status ``amended``), signed by its author, with a mandatory reason, and keeps the old one untouched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from usegan.store.errors import NotFoundError, ReviewSignedError, StaleReviewError
from usegan.store.rows import columns, record
from usegan.store.rows import insert as insert_row
from usegan.store.util import from_json, new_id, to_json
from usegan.vocab import FINAL_STATUSES, REVIEW_ROLES, ReviewStatus


@dataclass(frozen=True)
class Review:
    review_id: str
    case_id: str
    version: int  # 1 = original review, 2.. = amendments
    status: str  # draft / signed / amended
    reviewer: str
    rois: dict  # the ROI(s) the clinician confirmed, as given
    confirmed_score: int | None  # 1..5
    conclusion: str
    row_version: int  # pass back as expected_version on the next write
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str
    signed_at: dt.datetime | None
    signed_by: str | None
    amends_review_id: str | None
    amend_reason: str | None

    @property
    def is_signed(self) -> bool:
        return self.status in FINAL_STATUSES


_COLUMNS = columns(Review)


def _check_score(score: int | None) -> int | None:
    if score is None:
        return None
    if isinstance(score, bool) or int(score) != score or not 1 <= int(score) <= 5:
        raise ValueError(f"confirmed_score must be an integer 1..5 or None, got {score!r}")
    return int(score)


class ReviewsMixin:
    def _current_review(self, cur, case_id: str) -> Review | None:
        row = cur.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE case_id = ? ORDER BY version DESC LIMIT 1", [case_id]
        ).fetchone()
        if row is None:
            return None
        return record(Review, _COLUMNS, row, {"rois": from_json})

    def current_review(self, case_id: str) -> Review | None:
        """The newest review version of a case, or ``None`` when nobody reviewed it yet."""
        return self._current_review(self._cursor(), case_id)

    def review_history(self, case_id: str) -> list[Review]:
        """All versions, oldest first (the original signed review stays readable after amendments)."""
        rows = (
            self._cursor()
            .execute(f"SELECT {', '.join(_COLUMNS)} FROM reviews WHERE case_id = ? ORDER BY version", [case_id])
            .fetchall()
        )
        return [record(Review, _COLUMNS, row, {"rois": from_json}) for row in rows]

    def _check_expected(self, current: Review | None, case_id: str, expected_version: int) -> None:
        have = 0 if current is None else current.row_version
        if int(expected_version or 0) != have:
            if current is None:
                raise StaleReviewError(f"review of case {case_id} does not exist any more — reload")
            raise StaleReviewError(
                f"review of case {case_id} was changed by {current.updated_by} at "
                f"{current.updated_at:%Y-%m-%d %H:%M:%S} UTC — reload"
            )

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

    def save_draft(
        self,
        case_id: str,
        reviewer: str,
        rois: dict,
        confirmed_score: int | None,
        conclusion: str,
        expected_version: int,
    ) -> Review:
        """Create or update the draft review of a case; returns it with its new ``row_version``.

        ``expected_version``: the ``row_version`` you loaded (0 if there was no review). Raises
        :class:`StaleReviewError` if someone saved in between, :class:`ReviewSignedError` once signed.
        """
        score = _check_score(confirmed_score)
        self.require_role(reviewer, REVIEW_ROLES)
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            current = self._current_review(cur, case_id)
            self._check_expected(current, case_id, expected_version)
            if current is not None and current.is_signed:
                raise ReviewSignedError(
                    f"the review of case {case_id} was signed by {current.signed_by}; it can only be amended"
                )
            now = self.clock()
            if current is None:
                review = Review(
                    review_id=new_id("V"),
                    case_id=case_id,
                    version=1,
                    status=ReviewStatus.DRAFT,
                    reviewer=reviewer,
                    rois=rois or {},
                    confirmed_score=score,
                    conclusion=conclusion or "",
                    row_version=1,
                    created_at=now,
                    updated_at=now,
                    updated_by=reviewer,
                    signed_at=None,
                    signed_by=None,
                    amends_review_id=None,
                    amend_reason=None,
                )
            else:
                review = _replace(
                    current,
                    reviewer=reviewer,
                    rois=rois or {},
                    confirmed_score=score,
                    conclusion=conclusion or "",
                    row_version=current.row_version + 1,
                    updated_at=now,
                    updated_by=reviewer,
                )
            self._write_review(cur, review, insert=current is None)
            self.audit(
                reviewer,
                "review.save_draft",
                "review",
                review.review_id,
                None if current is None else _audit_view(current),
                _audit_view(review),
            )
        return review

    def sign(self, case_id: str, signer: str, expected_version: int) -> Review:
        """Sign the current draft (needs a confirmed score); after this it is immutable."""
        self.require_role(signer, REVIEW_ROLES)
        with self.transaction() as cur:
            current = self._current_review(cur, case_id)
            if current is None:
                raise NotFoundError(f"case {case_id!r} has no draft review to sign")
            self._check_expected(current, case_id, expected_version)
            if current.is_signed:
                raise ReviewSignedError(f"the review of case {case_id} is already signed by {current.signed_by}")
            if current.confirmed_score is None:
                raise ValueError(f"the review of case {case_id} has no confirmed score: set one before signing")
            now = self.clock()
            review = _replace(
                current,
                status=ReviewStatus.SIGNED,
                signed_at=now,
                signed_by=signer,
                updated_at=now,
                updated_by=signer,
                row_version=current.row_version + 1,
            )
            self._write_review(cur, review, insert=False)
            self.audit(signer, "review.sign", "review", review.review_id, _audit_view(current), _audit_view(review))
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
    ) -> Review:
        """Amend a signed review: a new, signed version with ``reason``; the previous version stays as it was."""
        score = _check_score(confirmed_score)
        if score is None:
            raise ValueError("an amendment needs a confirmed score")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"an amendment needs a reason, got {reason!r}")
        self.require_role(reviewer, REVIEW_ROLES)
        with self.transaction() as cur:
            current = self._current_review(cur, case_id)
            if current is None or not current.is_signed:
                raise ValueError(f"case {case_id} has no signed review to amend: edit the draft instead")
            self._check_expected(current, case_id, expected_version)
            now = self.clock()
            review = Review(
                review_id=new_id("V"),
                case_id=case_id,
                version=current.version + 1,
                status=ReviewStatus.AMENDED,
                reviewer=reviewer,
                rois=rois or {},
                confirmed_score=score,
                conclusion=conclusion or "",
                row_version=current.row_version + 1,
                created_at=now,
                updated_at=now,
                updated_by=reviewer,
                signed_at=now,
                signed_by=reviewer,
                amends_review_id=current.review_id,
                amend_reason=reason.strip(),
            )
            self._write_review(cur, review, insert=True)
            self.audit(reviewer, "review.amend", "review", review.review_id, _audit_view(current), _audit_view(review))
        return review


def _replace(review: Review, **changes) -> Review:
    from dataclasses import replace

    return replace(review, **changes)


def _audit_view(review: Review) -> dict:
    return {c: getattr(review, c) for c in _COLUMNS}
