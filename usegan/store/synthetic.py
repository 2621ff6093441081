"""Synthetic worklist rows for scale benchmarks (``bench/store_scale.py``): N cases in one bulk statement.

The cases share one tiny B-mode file (the worklist never reads images) and carry every worklist column, with
organs, sides, statuses, reviewers and scores spread evenly. Never used on a clinical database.
"""

from __future__ import annotations

import numpy as np

_FILL_SQL = """INSERT INTO cases (case_id, patient_id, organ, side, source, acquired_at, created_at, created_by,
    bmode_sha, height, width, notes, status, exam_at, reviewer, proposed_score, confirmed_score, updated_at)
SELECT 'C-bench-' || lpad(i::VARCHAR, 7, '0'), 'P-' || lpad((i % 40000)::VARCHAR, 7, '0'),
    ['breast', 'thyroid', 'liver'][1 + i % 3], ['left', 'right', NULL][1 + i % 3], 'upload',
    TIMESTAMP '2024-01-01' + to_seconds(i * 631), TIMESTAMP '2024-01-01' + to_seconds(i * 631), 'bench',
    ?, 16, 16, '', ['new', 'generated', 'draft', 'signed', 'amended'][1 + (i * 7) % 5],
    TIMESTAMP '2024-01-01' + to_seconds(i * 631),
    CASE WHEN (i * 7) % 5 >= 2 THEN 'dr_' || (i % 10)::VARCHAR END,
    1 + i % 5, CASE WHEN (i * 7) % 5 >= 3 THEN 1 + (i + 1) % 5 END,
    TIMESTAMP '2024-01-01' + to_seconds(i * 631)
FROM range(?) t(i)"""


def fill_synthetic_cases(store, n: int) -> None:
    """Insert ``n`` synthetic cases (ids ``C-bench-0000000``...) in one transaction; no audit rows."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    sha = store.images.put(np.zeros((16, 16), np.uint8))
    with store.transaction() as cur:
        cur.execute(_FILL_SQL, [sha, int(n)])
