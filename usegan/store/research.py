"""Read models for research (signed readings with their generation and proposal, a case's generations), the
blinded-reading record (a reader's score before the proposal and the virtual elastogram are revealed, then the
score after the reveal, each with its reading time) and the teaching flags on signed cases.

Nothing here returns a patient identifier: no patient id, name, original file name, notes or DICOM UID; teaching
cases do not even return the case id. Withdrawn cases are left out.
"""

from __future__ import annotations

import pandas as pd

from usegan.store.cases import _check_mode
from usegan.store.errors import NotFoundError
from usegan.store.util import new_id
from usegan.vocab import REVIEW_ROLES

# One row per signed reading (the current version of a signed or amended reading of a case in one mode): the
# generation and the proposal it was made on, as the reading records them, the case's image and size,
# and the newest real elastogram of that mode.
READINGS_SQL = """
WITH cur AS (
    SELECT * FROM reviews
    QUALIFY row_number() OVER (PARTITION BY case_id, mode ORDER BY version DESC) = 1
), signed AS (
    SELECT * FROM cur WHERE status IN ('signed', 'amended')
), shown AS (  -- the proposal the reader saw, as recorded on the reading
    SELECT p.prescore_id, p.generation_id, p.score, p.algorithm_version, p.result, p.roi FROM prescores p
), real AS (
    SELECT case_id, mode, elasto_sha AS real_elasto_sha, source AS real_source, colour_scale AS real_colour_scale
    FROM real_elastograms
    QUALIFY row_number() OVER (PARTITION BY case_id, mode ORDER BY created_at DESC, elastogram_id DESC) = 1
)
SELECT cur.review_id AS reading_id, cur.case_id, c.organ,
       c.lesion_type,
       cur.mode, cur.scale, cur.status, cur.version, cur.reviewer, cur.confirmed_score, cur.rois, cur.signed_at,
       g.generation_id, g.model_version, g.checkpoint_sha256, g.colour_scale, g.elasto_sha,
       g.uncertainty_sha, g.uncertainty_step,
       s.prescore_id, s.score AS proposed_score, s.algorithm_version, s.result AS proposal, s.roi AS proposal_roi,
       c.bmode_sha, c.height, c.width, c.spacing_row_mm, c.spacing_col_mm, r.real_elasto_sha, r.real_source,
       r.real_colour_scale
FROM signed cur
JOIN cases c ON c.case_id = cur.case_id AND c.withdrawn_at IS NULL
LEFT JOIN shown s ON s.prescore_id = cur.prescore_id
LEFT JOIN generations g ON g.generation_id = cur.generation_id
LEFT JOIN real r ON r.case_id = cur.case_id AND r.mode = cur.mode
ORDER BY cur.signed_at, cur.case_id, cur.mode
"""

CASE_GENERATIONS_SQL = """
SELECT generation_id, mode, model_version, checkpoint_sha256, colour_scale, elasto_sha, created_at
FROM generations WHERE case_id = ?
QUALIFY row_number() OVER (PARTITION BY mode, model_version ORDER BY created_at DESC, generation_id) = 1
ORDER BY mode, created_at, model_version
"""

BLINDED_SQL = """
SELECT b.*, c.organ, g.model_version, g.checkpoint_sha256
FROM blinded_readings b
JOIN cases c ON c.case_id = b.case_id
LEFT JOIN generations g ON g.generation_id = b.generation_id
ORDER BY b.started_at, b.session_id
"""


# Cases a reader can still read blinded in a mode: not read blinded by them in that mode yet, and not reviewed by
# them (a reader who has seen the proposal is no longer blind to it). Newest exam first.
BLINDED_QUEUE_SQL = """
SELECT c.case_id, c.organ, c.exam_at, c.status FROM cases c
WHERE c.withdrawn_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM blinded_readings b WHERE b.case_id = c.case_id AND b.reader = ? AND b.mode = ?)
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.case_id = c.case_id AND r.reviewer = ?)
ORDER BY c.exam_at DESC, c.case_id DESC LIMIT ?
"""


# Flagged teaching cases with what the lab shows: the signed score of the current reading, its ROIs, the newest
# generation of the flagged mode and the newest real elastogram of that mode. No case id.
TEACHING_SQL = """
WITH cur AS (
    SELECT * FROM reviews QUALIFY row_number() OVER (PARTITION BY case_id, mode ORDER BY version DESC) = 1
), gen AS (
    SELECT case_id, mode, model_version, elasto_sha FROM generations
    QUALIFY row_number() OVER (PARTITION BY case_id, mode ORDER BY created_at DESC, generation_id) = 1
), real AS (
    SELECT case_id, mode, elasto_sha FROM real_elastograms
    QUALIFY row_number() OVER (PARTITION BY case_id, mode ORDER BY created_at DESC, elastogram_id DESC) = 1
)
SELECT t.teaching_id, t.mode, c.organ, c.lesion_type, cur.confirmed_score, cur.rois, c.bmode_sha,
       g.model_version, g.elasto_sha, r.elasto_sha AS real_elasto_sha, t.flagged_at
FROM teaching_cases t
JOIN cases c ON c.case_id = t.case_id AND c.withdrawn_at IS NULL
JOIN cur ON cur.case_id = t.case_id AND cur.mode = t.mode AND cur.status IN ('signed', 'amended')
LEFT JOIN gen g ON g.case_id = t.case_id AND g.mode = t.mode
LEFT JOIN real r ON r.case_id = t.case_id AND r.mode = t.mode
ORDER BY t.flagged_at, t.teaching_id
"""

# Signed readings (case + mode) a clinician can flag for teaching (for clinicians: case ids are shown), newest first.
TEACHING_CANDIDATES_SQL = """
SELECT c.case_id, c.organ, c.lesion_type, r.confirmed_score, r.signed_at, r.mode
FROM (SELECT * FROM reviews QUALIFY row_number() OVER (PARTITION BY case_id, mode ORDER BY version DESC) = 1) r
JOIN cases c ON c.case_id = r.case_id
WHERE r.status IN ('signed', 'amended') AND c.withdrawn_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM teaching_cases t WHERE t.case_id = c.case_id AND t.mode = r.mode)
ORDER BY r.signed_at DESC, c.case_id, r.mode LIMIT ?
"""


def _score(score: int | None, what: str) -> int | None:
    if score is None:
        return None
    if isinstance(score, bool) or int(score) != score or not 1 <= int(score) <= 5:
        raise ValueError(f"{what} must be an integer 1..5, got {score!r}")
    return int(score)


def _seconds(seconds: float) -> float:
    if not float(seconds) >= 0:
        raise ValueError(f"reading time must be >= 0 seconds, got {seconds!r}")
    return float(seconds)


class ResearchMixin:
    def signed_readings(self) -> pd.DataFrame:
        """Every signed reading with its generation, proposal and images (columns in :data:`READINGS_SQL`);
        JSON columns (``rois``, ``colour_scale``, ``proposal``, ``proposal_roi``) are JSON text."""
        return self.query(READINGS_SQL)

    def case_generations(self, case_id: str) -> pd.DataFrame:
        """The newest generation of each (mode, model version) of a case: the versions side by side."""
        return self.query(CASE_GENERATIONS_SQL, [case_id])

    # -- blinded reading -----------------------------------------------------------------------------------------
    def start_blinded_reading(self, case_id: str, mode: str, reader: str, score: int, seconds: float) -> str:
        """Record a reader's score made before the proposal and the virtual elastogram were shown; returns the
        session id that :meth:`finish_blinded_reading` completes after the reveal."""
        _check_mode(mode)
        blinded = _score(score, "the blinded score")
        if blinded is None:
            raise ValueError("a blinded reading needs a score")
        seconds = _seconds(seconds)
        self.require_role(reader, REVIEW_ROLES)
        session_id, now = new_id("B"), self.clock()
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            cur.execute(
                "INSERT INTO blinded_readings (session_id, case_id, mode, reader, blinded_score, blinded_seconds, "
                "started_at, revealed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [session_id, case_id, mode, reader, blinded, seconds, now, now],
            )
            self.audit(reader, "blinded.score", "case", case_id, None,
                        {"session_id": session_id, "mode": mode, "score": blinded, "seconds": seconds})  # fmt: skip
        return session_id

    def finish_blinded_reading(
        self,
        session_id: str,
        reader: str,
        score: int,
        seconds: float,
        *,
        generation_id: str | None,
        proposed_score: int | None,
        proposal_system: str | None,
    ) -> None:
        """Record the same reader's score after the reveal, with the generation and proposal that were shown."""
        unblinded = _score(score, "the unblinded score")
        if unblinded is None:
            raise ValueError("the unblinded reading needs a score")
        seconds = _seconds(seconds)
        with self.transaction() as cur:
            row = cur.execute(
                "SELECT reader, case_id, unblinded_score FROM blinded_readings WHERE session_id = ?", [session_id]
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no blinded reading {session_id!r}")
            if row[0] != reader:
                raise ValueError(f"blinded reading {session_id} belongs to {row[0]}, not {reader}")
            if row[2] is not None:
                raise ValueError(f"blinded reading {session_id} is already complete")
            cur.execute(
                "UPDATE blinded_readings SET unblinded_score = ?, unblinded_seconds = ?, generation_id = ?, "
                "proposed_score = ?, proposal_system = ?, completed_at = ? WHERE session_id = ?",
                [unblinded, seconds, generation_id, proposed_score, proposal_system, self.clock(), session_id],
            )
            self.audit(reader, "blinded.unblinded_score", "case", row[1], None,
                        {"session_id": session_id, "score": unblinded, "seconds": seconds,
                         "generation_id": generation_id, "proposed_score": proposed_score})  # fmt: skip

    def blinded_readings(self) -> pd.DataFrame:
        """Every blinded-reading session, one row each (both phases), oldest first, with the case's organ and the
        revealed generation's model version."""
        return self.query(BLINDED_SQL)

    def blinded_queue(self, reader: str, mode: str, limit: int = 50) -> pd.DataFrame:
        """Cases ``reader`` can still read blinded in ``mode`` (case_id, organ, exam_at, status), newest first:
        never read blinded by them in that mode and never reviewed by them."""
        _check_mode(mode)
        if not 1 <= int(limit) <= 1000:
            raise ValueError(f"limit must be 1..1000, got {limit!r}")
        return self.query(BLINDED_QUEUE_SQL, [reader, str(mode), reader, int(limit)])

    # -- teaching cases ------------------------------------------------------------------------------------------
    def flag_for_teaching(self, case_id: str, mode: str, user: str) -> str:
        """Flag a signed case's ``mode`` reading for the teaching lab; returns its teaching pseudonym (the existing
        one when it is flagged already). Only reviewing roles may flag; the case must carry a signed reading."""
        _check_mode(mode)
        self.require_role(user, REVIEW_ROLES)
        with self.transaction() as cur:
            self._require_case(cur, case_id)
            found = cur.execute(
                "SELECT teaching_id FROM teaching_cases WHERE case_id = ? AND mode = ?", [case_id, str(mode)]
            ).fetchone()
            if found is not None:
                return found[0]
            reading = self._current_review(cur, case_id, mode)  # the reading of that mode
            status = "not read" if reading is None else reading.status
            if status not in ("signed", "amended"):
                raise ValueError(f"case {case_id} has no signed reading ({status}): sign it before teaching with it")
            teaching_id = new_id("T")[:10]
            cur.execute(
                "INSERT INTO teaching_cases (teaching_id, case_id, mode, flagged_by, flagged_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [teaching_id, case_id, str(mode), user, self.clock()],
            )
            self.audit(user, "teaching.flag", "case", case_id, None, {"teaching_id": teaching_id, "mode": mode})
        return teaching_id

    def unflag_teaching(self, teaching_id: str, user: str) -> None:
        """Take a case out of the teaching lab."""
        self.require_role(user, REVIEW_ROLES)
        with self.transaction() as cur:
            row = cur.execute("SELECT case_id FROM teaching_cases WHERE teaching_id = ?", [teaching_id]).fetchone()
            if row is None:
                raise NotFoundError(f"no teaching case {teaching_id!r}")
            cur.execute("DELETE FROM teaching_cases WHERE teaching_id = ?", [teaching_id])
            self.audit(user, "teaching.unflag", "case", row[0], {"teaching_id": teaching_id}, None)

    def teaching_cases(self) -> pd.DataFrame:
        """Flagged, signed, not withdrawn cases under their teaching pseudonym (no case id): teaching_id, mode,
        organ, lesion_type, confirmed_score, rois (JSON), bmode_sha, model_version, elasto_sha, real_elasto_sha."""
        return self.query(TEACHING_SQL)

    def teaching_candidates(self, limit: int = 100) -> pd.DataFrame:
        """Signed cases (and modes with a generation) not yet flagged for teaching, newest first."""
        return self.query(TEACHING_CANDIDATES_SQL, [int(limit)])
