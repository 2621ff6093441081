"""The database schema, as an ordered list of migrations (the newest schema = all of them applied in order).

Never edit a released migration: add a new one. Timestamps are naive UTC (``TIMESTAMP``); JSON columns hold
dicts serialised with ``json.dumps``; images are sha256 names into :mod:`usegan.store.images`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int  # schema version after this migration
    description: str  # one line, shown in schema_version
    statements: tuple[str, ...]  # SQL run in one transaction


V1_BASE = Migration(
    1,
    "base tables: patients, cases, generations, prescores, reviews, reports, real elastograms, models, users, audit",
    (
        """CREATE TABLE patients (
            patient_id VARCHAR PRIMARY KEY,      -- pseudonymous id
            real_name VARCHAR,                   -- only when settings.store_patient_names
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE cases (
            case_id VARCHAR PRIMARY KEY,
            patient_id VARCHAR,
            organ VARCHAR NOT NULL,
            side VARCHAR,
            source VARCHAR NOT NULL,             -- upload / sample / dicom / phantom
            acquired_at TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            bmode_sha VARCHAR NOT NULL,
            height INTEGER NOT NULL,
            width INTEGER NOT NULL,
            original_sha VARCHAR,
            original_name VARCHAR,
            notes VARCHAR NOT NULL DEFAULT '',
            sop_instance_uid VARCHAR,
            dicom_uids JSON,
            crop JSON)""",
        """CREATE TABLE generations (
            generation_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,
            model_version VARCHAR NOT NULL,
            checkpoint_sha256 VARCHAR NOT NULL,
            colour_scale JSON NOT NULL,
            elasto_sha VARCHAR NOT NULL,
            ms DOUBLE,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL)""",
        """CREATE TABLE prescores (
            prescore_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            generation_id VARCHAR,
            algorithm_version VARCHAR,
            score INTEGER,
            result JSON NOT NULL,
            roi JSON NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL)""",
        """CREATE TABLE reviews (
            review_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,            -- 1 = original, 2.. = amendments
            status VARCHAR NOT NULL,             -- draft / signed / amended
            reviewer VARCHAR NOT NULL,
            rois JSON NOT NULL,
            confirmed_score INTEGER,
            conclusion VARCHAR NOT NULL DEFAULT '',
            row_version INTEGER NOT NULL,        -- optimistic lock, +1 per write
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            updated_by VARCHAR NOT NULL,
            signed_at TIMESTAMP,
            signed_by VARCHAR,
            amends_review_id VARCHAR,
            amend_reason VARCHAR)""",
        """CREATE TABLE reports (
            report_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            review_id VARCHAR,
            pdf_sha VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL)""",
        """CREATE TABLE real_elastograms (
            elastogram_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            elasto_sha VARCHAR NOT NULL,
            colour_scale JSON,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL)""",
        """CREATE TABLE models (
            version VARCHAR PRIMARY KEY,
            mode VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            metrics JSON NOT NULL,
            card JSON NOT NULL,
            status VARCHAR NOT NULL,             -- candidate / active / retired
            created_at TIMESTAMP NOT NULL,
            promoted_at TIMESTAMP)""",
        """CREATE TABLE users (
            username VARCHAR PRIMARY KEY,
            password_hash VARCHAR NOT NULL,      -- argon2id, never logged
            role VARCHAR NOT NULL,               -- admin / clinician / researcher / viewer
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TIMESTAMP,
            created_at TIMESTAMP NOT NULL,
            last_login_at TIMESTAMP)""",
        "CREATE SEQUENCE audit_seq START 1",
        """CREATE TABLE audit (
            audit_id BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
            logged_at TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            entity_id VARCHAR,
            before JSON,
            after JSON)""",
    ),
)

# Version 2 denormalises the worklist: status, reviewer and scores live on the case row, so listing the latest
# 50 of 100,000 cases is one scan of one table with no joins. Existing rows are back-filled from the child tables.
V2_WORKLIST = Migration(
    2,
    "worklist columns on cases (status, exam_at, reviewer, scores, updated_at) and a SOP-UID index",
    (
        "ALTER TABLE cases ADD COLUMN status VARCHAR DEFAULT 'new'",
        "ALTER TABLE cases ADD COLUMN exam_at TIMESTAMP",
        "ALTER TABLE cases ADD COLUMN reviewer VARCHAR",
        "ALTER TABLE cases ADD COLUMN proposed_score INTEGER",
        "ALTER TABLE cases ADD COLUMN confirmed_score INTEGER",
        "ALTER TABLE cases ADD COLUMN updated_at TIMESTAMP",
        """UPDATE cases SET exam_at = coalesce(acquired_at, created_at), updated_at = created_at,
            status = CASE WHEN EXISTS (SELECT 1 FROM generations g WHERE g.case_id = cases.case_id)
                     THEN 'generated' ELSE 'new' END""",
        """UPDATE cases SET proposed_score = p.score FROM (
            SELECT case_id, arg_max(score, created_at) AS score FROM prescores GROUP BY case_id) p
            WHERE p.case_id = cases.case_id""",
        """UPDATE cases SET status = r.status, reviewer = r.reviewer, confirmed_score = r.confirmed_score,
            updated_at = r.updated_at FROM (
            SELECT case_id, arg_max(status, version) AS status, arg_max(reviewer, version) AS reviewer,
                   arg_max(confirmed_score, version) AS confirmed_score, max(updated_at) AS updated_at
            FROM reviews GROUP BY case_id) r WHERE r.case_id = cases.case_id""",
        "CREATE INDEX cases_sop_uid ON cases (sop_instance_uid)",
        "CREATE INDEX reviews_case ON reviews (case_id)",
        "CREATE INDEX generations_case ON generations (case_id)",
    ),
)

# Version 3 registers fine-tuning pairs: a signed case with a real elastogram of a mode. The split is
# decided once, when the pair is created, and never changes, so a validation case can never drift into training.
V3_TRAINING_PAIRS = Migration(
    3,
    "training pairs (case + mode) with their train / validation split fixed at creation",
    (
        """CREATE TABLE training_pairs (
            case_id VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,               -- strain / swe
            split VARCHAR NOT NULL,              -- train / validation, fixed at creation
            elastogram_id VARCHAR NOT NULL,      -- the real elastogram used (newest of the mode)
            review_id VARCHAR NOT NULL,          -- the signed review whose lesion ROI is the mask
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (case_id, mode))""",
    ),
)

# Version 4 gives the lesion type (known for phantoms and bundled samples) its own column; before, it was written
# into the free-text notes as "lesion type: <type>" and read back with a regex. Existing rows are back-filled from
# the notes once, here.
V4_LESION_TYPE = Migration(
    4,
    "lesion_type column on cases (phantoms and samples), back-filled from the notes",
    (
        "ALTER TABLE cases ADD COLUMN lesion_type VARCHAR",
        "UPDATE cases SET lesion_type = NULLIF(regexp_extract(notes, 'lesion type: ([a-z_]+)', 1), '')",
    ),
)
# Blinded reading: a reader scores a case before the proposal and the virtual elastogram are revealed, then again
# after; the research audit compares both phases (how much the proposal moves readers) and their reading times.
V5_BLINDED_READINGS = Migration(
    5,
    "blinded readings: a reader's score before and after the proposal and virtual elastogram are revealed",
    (
        """CREATE TABLE blinded_readings (
            session_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,               -- strain / swe: the mode read
            reader VARCHAR NOT NULL,
            blinded_score INTEGER NOT NULL,      -- 1..5, before the reveal
            blinded_seconds DOUBLE NOT NULL,     -- reading time before the reveal
            started_at TIMESTAMP NOT NULL,
            revealed_at TIMESTAMP,
            generation_id VARCHAR,               -- the virtual elastogram revealed
            proposed_score INTEGER,              -- the proposal revealed (on the confirmed scale), NULL if none
            proposal_system VARCHAR,
            unblinded_score INTEGER,             -- 1..5, after the reveal
            unblinded_seconds DOUBLE,
            completed_at TIMESTAMP)""",
        "CREATE INDEX blinded_readings_case ON blinded_readings (case_id)",
    ),
)

# Version 6 (intake): the case's pixel spacing in mm (from the scanner's region calibration, Pixel
# Spacing or a user calibration), withdrawal (a soft delete: hidden from the worklist, kept in the archive), the
# time the B-mode was last (re-)cropped (generations and pre-scores older than that belong to the previous image),
# and the raw patient id, filled only when ``settings.store_patient_ids`` is on.
V6_INTAKE = Migration(
    6,
    "intake: pixel spacing, withdrawal, re-crop time and earlier B-modes on cases; optional raw patient id",
    (
        "ALTER TABLE cases ADD COLUMN spacing_row_mm DOUBLE",
        "ALTER TABLE cases ADD COLUMN spacing_col_mm DOUBLE",
        "ALTER TABLE cases ADD COLUMN spacing_source VARCHAR",
        "ALTER TABLE cases ADD COLUMN cropped_at TIMESTAMP",
        "ALTER TABLE cases ADD COLUMN previous_bmodes JSON",
        "ALTER TABLE cases ADD COLUMN withdrawn_at TIMESTAMP",
        "ALTER TABLE cases ADD COLUMN withdrawn_by VARCHAR",
        "ALTER TABLE cases ADD COLUMN withdraw_reason VARCHAR",
        "ALTER TABLE patients ADD COLUMN real_id VARCHAR",
    ),
)

# Version 7: signed cases a clinician flagged for teaching. Students see them under the pseudonym teaching_id only
# (never the case id or anything that identifies the patient); one flag per case and mode.
V7_TEACHING_CASES = Migration(
    7,
    "teaching cases: signed cases flagged for the teaching lab, under a teaching pseudonym",
    (
        """CREATE TABLE teaching_cases (
            teaching_id VARCHAR PRIMARY KEY,     -- T-xxxxxx: what students see
            case_id VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,               -- strain / swe: the reading taught
            flagged_by VARCHAR NOT NULL,
            flagged_at TIMESTAMP NOT NULL,
            UNIQUE (case_id, mode))""",
    ),
)

# Version 8 makes a review a *reading*: one chain of versions per (case, mode), each version naming the
# generation it was read on (model version + checkpoint hash), the proposal shown, and the scale of its confirmed
# score. Existing reviews are attributed to the proposal stored just before their last save (record_proposal ran
# first), else to the newest generation that existed then; a chain keeps the mode of its first version, and a
# version whose generation is of another mode loses that attribution rather than keeping a wrong one. Their scale
# is the organ-only picker they were confirmed on (an SWE breast score of that time was on Tsukuba).
V8_READINGS = Migration(
    8,
    "readings: a review per (case, mode) with its generation, proposal and score scale; report mode",
    (
        "ALTER TABLE reviews ADD COLUMN mode VARCHAR",
        "ALTER TABLE reviews ADD COLUMN scale VARCHAR",
        "ALTER TABLE reviews ADD COLUMN generation_id VARCHAR",
        "ALTER TABLE reviews ADD COLUMN model_version VARCHAR",
        "ALTER TABLE reviews ADD COLUMN checkpoint_sha256 VARCHAR",
        "ALTER TABLE reviews ADD COLUMN prescore_id VARCHAR",
        """UPDATE reviews SET prescore_id = p.prescore_id FROM (
            SELECT r.review_id, arg_max(s.prescore_id, s.created_at) AS prescore_id
            FROM reviews r JOIN prescores s
              ON s.case_id = r.case_id AND s.created_at <= r.updated_at AND s.generation_id IS NOT NULL
            GROUP BY r.review_id) p WHERE p.review_id = reviews.review_id""",
        "UPDATE reviews SET generation_id = s.generation_id FROM prescores s WHERE s.prescore_id = reviews.prescore_id",
        """UPDATE reviews SET generation_id = g.generation_id FROM (
            SELECT r.review_id, arg_max(g.generation_id, g.created_at) AS generation_id
            FROM reviews r JOIN generations g ON g.case_id = r.case_id AND g.created_at <= r.updated_at
            WHERE r.generation_id IS NULL GROUP BY r.review_id) g WHERE g.review_id = reviews.review_id""",
        "UPDATE reviews SET mode = g.mode FROM generations g WHERE g.generation_id = reviews.generation_id",
        "UPDATE reviews SET mode = 'strain' WHERE mode IS NULL",
        """UPDATE reviews SET mode = f.mode FROM (
            SELECT case_id, arg_min(mode, version) AS mode FROM reviews GROUP BY case_id) f
            WHERE f.case_id = reviews.case_id""",
        """UPDATE reviews SET generation_id = NULL, prescore_id = NULL FROM generations g
            WHERE g.generation_id = reviews.generation_id AND g.mode <> reviews.mode""",
        """UPDATE reviews SET model_version = g.model_version, checkpoint_sha256 = g.checkpoint_sha256
            FROM generations g WHERE g.generation_id = reviews.generation_id""",
        """UPDATE reviews SET scale = CASE c.organ WHEN 'breast' THEN 'tsukuba' WHEN 'thyroid' THEN 'rago'
            WHEN 'liver' THEN 'swe_liver' ELSE 'stiffness_5' END FROM cases c WHERE c.case_id = reviews.case_id""",
        "UPDATE reviews SET scale = 'stiffness_5' WHERE scale IS NULL",
        "ALTER TABLE reports ADD COLUMN mode VARCHAR",
        "UPDATE reports SET mode = r.mode FROM reviews r WHERE r.review_id = reports.review_id",
    ),
)

# Version 9 (issue 15): sign-in throttling keyed by account name, client address or trusted device (replacing the
# per-user counter, which a race let 40 parallel guesses through), and server-side browser sessions.
V9_AUTH = Migration(
    9,
    "sign-in throttle entries and browser sessions",
    (
        """CREATE TABLE login_throttle (
            scope VARCHAR NOT NULL,              -- account / client / device
            key VARCHAR NOT NULL,                -- the name as typed, the client address, or "name device-id"
            failures INTEGER NOT NULL,
            last_failure_at TIMESTAMP,
            blocked_until TIMESTAMP,
            PRIMARY KEY (scope, key))""",
        """CREATE TABLE sessions (
            session_hash VARCHAR PRIMARY KEY,    -- sha256 of the random session id (the id itself is never stored)
            username VARCHAR NOT NULL,
            client VARCHAR,
            created_at TIMESTAMP NOT NULL,
            last_seen_at TIMESTAMP NOT NULL,
            ended_at TIMESTAMP,
            end_reason VARCHAR)""",
        "CREATE INDEX sessions_user ON sessions (username)",
    ),
)

# Version 10 (issue 18): the model's per-pixel uncertainty, kept with the generation it describes (a 16-bit PNG in
# the image store and the SD per count), for the quality map and the research audit's uncertainty calibration.
# Additive: existing generations keep every value and have no map (NULL), as if made by a model without one.
V10_GENERATION_UNCERTAINTY = Migration(
    10,
    "generations: the model's per-pixel uncertainty map (16-bit PNG) and its step",
    (
        "ALTER TABLE generations ADD COLUMN uncertainty_sha VARCHAR",
        "ALTER TABLE generations ADD COLUMN uncertainty_step DOUBLE",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    V1_BASE,
    V2_WORKLIST,
    V3_TRAINING_PAIRS,
    V4_LESION_TYPE,
    V5_BLINDED_READINGS,
    V6_INTAKE,
    V7_TEACHING_CASES,
    V8_READINGS,
    V9_AUTH,
    V10_GENERATION_UNCERTAINTY,
)
SCHEMA_VERSION = MIGRATIONS[-1].version

# Every image-store name the database points at (B-mode, originals, elastograms, reports): `store check`, backups.
REFERENCED_IMAGES_SQL = (
    "SELECT bmode_sha FROM cases UNION SELECT original_sha FROM cases WHERE original_sha IS NOT NULL "
    "UNION SELECT unnest(from_json(previous_bmodes, '[\"VARCHAR\"]')) FROM cases WHERE previous_bmodes IS NOT NULL "
    "UNION SELECT elasto_sha FROM generations UNION SELECT uncertainty_sha FROM generations "
    "WHERE uncertainty_sha IS NOT NULL UNION SELECT elasto_sha FROM real_elastograms "
    "UNION SELECT pdf_sha FROM reports"
)
