"""scripts/visible_oracle.py: the kappa of a reader perfect where the B-mode shows the lesion and blind elsewhere."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from usegan.cli import main

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "visible_oracle.py"
spec = importlib.util.spec_from_file_location("visible_oracle", SCRIPT)
vo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vo)


def test_a_blind_reading_replaces_the_lesion_by_its_surroundings_only():
    scalar = np.full((40, 40), 0.6, np.float32)
    scalar[:5] = 0.9  # far from the lesion: outside the ring, kept and not used
    mask = np.zeros((40, 40), bool)
    mask[18:24, 18:24] = True
    scalar[mask] = 0.05  # a hard lesion
    read = vo.blind_reading(scalar, mask)
    assert np.allclose(read[mask], 0.6) and np.array_equal(read[~mask], scalar[~mask])


def test_the_oracle_reads_shown_lesions_as_the_truth_and_hidden_ones_as_their_surroundings(tmp_path):
    out = tmp_path / "set"
    assert main(["phantom", "-n", "8", "--out", str(out), "--size", "64", "--seed", "3", "--quiet"]) == 0
    rows = vo.oracle_rows(out, "strain")
    assert rows and {"name", "truth", "visible", "oracle", "error"} <= set(rows[0])
    assert {r["visible"] for r in rows} == {True, False}  # seed 3 has both, so both branches are checked
    for row in rows:
        if row["visible"]:
            assert row["oracle"] == row["truth"] and row["error"] == 0.0  # the true elastogram, scored
        else:
            assert row["oracle"] == 1  # an even field where the lesion was: Tsukuba 1
