"""scripts/robustness_by_shift.py: the same lesions under each scanner profile, compared pairwise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from usegan.agreement import quadratic_weighted_kappa
from usegan.phantom.scanner import PROFILE_NAMES, SHIFT_GROUPS

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "robustness_by_shift.py"
spec = importlib.util.spec_from_file_location("robustness_by_shift", SCRIPT)
rbs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rbs)


def result(cases: dict) -> dict:
    return {"cases": cases, "kappa": 0.5, "kappa_visible": 0.6, "ncc": 0.7, "mae_kpa_lesion": None,
            "carcinomas_under_read": 1, "carcinomas_scored": 2}  # fmt: skip


def test_every_profile_it_runs_exists_training_first_and_the_full_shift_last():
    names = rbs.profiles()
    assert names[0] == "training" and names[-1] == "held-out" and len(names) == len(SHIFT_GROUPS) + 2
    assert all(name in PROFILE_NAMES for name in names)


def test_the_difference_is_paired_over_cases_with_the_same_truth():
    truth = [1, 2, 3, 4, 5] * 8
    base = result({f"c{i}": (t, t) for i, t in enumerate(truth)})  # reads every case right
    worse = {f"c{i}": (t, max(1, t - 1)) for i, t in enumerate(truth)}  # one class softer everywhere
    worse["c0"] = (3, 3)  # another box: another truth for this case, so it is left out
    worse["extra"] = (5, 5)  # not in the base set
    d = rbs.paired_difference(base, result(worse))
    assert d["n"] == 39 and d["kappa"] < 0 and d["low"] <= d["kappa"] <= d["high"]
    kept = [t for i, t in enumerate(truth) if i]
    expected = quadratic_weighted_kappa(kept, [max(1, t - 1) for t in kept]) - 1.0  # the base reads them right
    assert d["kappa"] == pytest.approx(expected)


def test_the_table_has_a_row_per_profile_and_mode_with_the_change_where_there_is_one():
    base = result({})
    shifted = {**result({}), "vs_training": {"kappa": -0.2, "low": -0.3, "high": -0.1, "n": 10, "level": 0.95}}
    text = rbs.table({"training": {"strain": base}, "held-out:grey": {"strain": shifted}})
    rows = text.strip().splitlines()
    assert len(rows) == 4 and "| training | strain | 0.500 |  |" in rows[2]
    assert "-0.200 (-0.300 to -0.100; n = 10)" in rows[3] and "1 of 2" in rows[3]
