"""scripts/compare_models.py: a candidate against a baseline on the same sets, paired case by case."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict
from pathlib import Path

import pytest

from usegan.research.stats import paired_kappa_change

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "compare_models.py"
spec = importlib.util.spec_from_file_location("compare_models", SCRIPT)
cm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cm)


def summary(cases: dict, kappa: float) -> dict:
    return {"cases": cases, "kappa": kappa, "kappa_visible": None, "ncc": 0.7, "mae_kpa_lesion": None,
            "carcinomas_under_read": 1, "carcinomas_scored": 4, "off_map_max": 0.0}  # fmt: skip


def test_sets_are_named_and_must_be_phantom_folders(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.csv").write_text("name\n")
    sets = cm.named_sets([f"test={tmp_path / 'a'}", str(tmp_path / "b")])
    assert sets == {"test": tmp_path / "a", "b": tmp_path / "b"}
    with pytest.raises(SystemExit, match="no index.csv"):
        cm.named_sets([str(tmp_path)])


def test_the_table_gives_the_candidates_paired_change_on_its_row():
    truth = [1, 2, 3, 4, 5] * 6
    base = summary({f"c{i}": (t, min(5, t + 1)) for i, t in enumerate(truth)}, 0.8)
    better = summary({f"c{i}": (t, t) for i, t in enumerate(truth)}, 1.0)
    change = asdict(paired_kappa_change(base["cases"], better["cases"]))
    results = {"held-out": {"baseline": base, "candidate": better, "change": change}}
    assert results["held-out"]["change"]["kappa"] > 0 and results["held-out"]["change"]["n"] == 30
    rows = cm.table(results, {"baseline": "usegan-strain-v4", "candidate": "usegan-strain-dg"}).splitlines()
    baseline_row, candidate_row = rows[2], rows[3]
    assert "usegan-strain-v4" in baseline_row and "n = 30" not in baseline_row
    assert "usegan-strain-dg" in candidate_row and "n = 30" in candidate_row and "| 1.000 |" in candidate_row
