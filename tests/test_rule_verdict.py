"""``scripts/rule_verdict.py``: a candidate passes only when every item of its rule holds on the measurements, an
item that was not measured fails, off-map must be 0 everywhere, and a malformed flag is refused by name."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "rule_verdict.py"
spec = importlib.util.spec_from_file_location("rule_verdict", SCRIPT)
rv = importlib.util.module_from_spec(spec)
sys.modules["rule_verdict"] = rv  # its dataclass looks its module up
spec.loader.exec_module(rv)
HYBRID_WHOLE = "lesions drawn into real scans, whole: carcinoma / fibroadenoma / cyst as expected"

RULE = ["--false-hard-cut", "0.15", "--type-margin", "2", "--kappa-margin", "test=0.015", "held-out=0.03",
        "--visible-floor", "test=0.80", "--ncc-floor", "test=0.65", "--mae-margin", "test=2"]  # fmt: skip


def _reading(carcinoma: int, fibroadenoma: int, cyst: int) -> dict:
    by_type = {"carcinoma": carcinoma, "fibroadenoma": fibroadenoma, "cyst": cyst}
    part = {"by_type": {t: {"as_expected": n} for t, n in by_type.items()}, "off_map_max": 0.0}
    return {**part, "framed": copy.deepcopy(part)}


def _report(false_hard: float) -> dict:
    return {"false_hard_rate": false_hard, "real_off_map_max": 0.0, "garbage_off_map": {"noise": 0.0, "text": 0.0},
            "hybrid": _reading(41, 36, 44), "second_simulator": _reading(39, 46, 50)}  # fmt: skip


def _set(kappa_change: float, visible: float, ncc: float, mae: float) -> dict:
    base = {"kappa": 0.40, "kappa_visible": 0.82, "ncc": 0.65, "mae_kpa_lesion": 44.5, "off_map_max": 0.0}
    cand = {**base, "kappa": 0.40 + kappa_change, "kappa_visible": visible, "ncc": ncc, "mae_kpa_lesion": mae}
    change = {"kappa": kappa_change, "low": kappa_change - 0.04, "high": kappa_change + 0.04}
    return {"baseline": base, "candidate": cand, "change": change}


@pytest.fixture
def passing():
    compare = {"test": _set(0.01, 0.81, 0.66, 44.0), "held-out": _set(-0.02, 0.60, 0.45, 60.0)}
    return _report(0.59), _report(0.40), compare


def _run(tmp_path: Path, baseline: dict, candidate: dict, compare: dict, *flags: str) -> int:
    paths = []
    for name, body in (("base.json", {"models": {"swe": baseline}}), ("cand.json", {"models": {"swe": candidate}}),
                       ("compare.json", {"results": compare})):  # fmt: skip
        (tmp_path / name).write_text(json.dumps(body))
        paths.append(str(tmp_path / name))
    argv = ["--baseline-report", paths[0], "--candidate-report", paths[1], "--compare", paths[2], *flags]
    return rv.main(argv)


def test_a_candidate_that_holds_every_item_passes(tmp_path, passing, capsys):
    assert _run(tmp_path, *passing, *RULE) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.rstrip().endswith("verdict: every item passes")
    assert out.count("\npass ") + out.startswith("pass ") == 11  # 1 + 4 readings + 5 per-set items + off-map


def _failing_items(baseline, candidate, compare) -> list[str]:
    per_set = {"kappa_margin": {"test": 0.015, "held-out": 0.03}, "visible_floor": {"test": 0.80},
               "ncc_floor": {"test": 0.65}, "mae_margin": {"test": 2.0}}  # fmt: skip
    items = rv.judge(baseline, candidate, compare, false_hard_cut=0.15, type_margin=2, per_set=per_set)
    return [item.name for item in items if not item.passed]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        (lambda b, c, s: c.update(false_hard_rate=0.45), "false-hard rate on the real scans"),
        (lambda b, c, s: c["second_simulator"]["framed"]["by_type"]["carcinoma"].update(as_expected=36),
         "second simulator, framed: carcinoma / fibroadenoma / cyst as expected"),
        (lambda b, c, s: c["hybrid"]["by_type"]["cyst"].update(as_expected=41), HYBRID_WHOLE),
        (lambda b, c, s: s["held-out"]["change"].update(kappa=-0.031), "held-out: kappa change over the baseline"),
        (lambda b, c, s: s["test"]["candidate"].update(kappa_visible=0.799), "test: kappa, lesions the B-mode shows"),
        (lambda b, c, s: s["test"]["candidate"].update(ncc=0.649), "test: NCC of the scalar with the truth"),
        (lambda b, c, s: s["test"]["candidate"].update(mae_kpa_lesion=46.6), "test: SWE lesion MAE, kPa"),
        (lambda b, c, s: c["garbage_off_map"].update(text=0.001), "off-map 0.000 everywhere"),
        (lambda b, c, s: s["held-out"]["candidate"].update(off_map_max=0.002), "off-map 0.000 everywhere"),
        (lambda b, c, s: c.pop("hybrid"), HYBRID_WHOLE),  # not measured
        (lambda b, c, s: s.pop("test"), "test: kappa, lesions the B-mode shows"),
    ],
)  # fmt: skip
def test_each_item_fails_on_its_own(passing, change, failed):
    baseline, candidate, compare = copy.deepcopy(passing)
    assert _failing_items(baseline, candidate, compare) == []
    change(baseline, candidate, compare)
    assert failed in _failing_items(baseline, candidate, compare)


def test_margins_are_against_the_baseline_on_the_same_cases(passing):
    baseline, candidate, compare = copy.deepcopy(passing)
    candidate["second_simulator"]["by_type"]["carcinoma"]["as_expected"] = 37  # baseline 39: within 2
    candidate["false_hard_rate"] = 0.44  # baseline 0.59: cut 0.15
    assert _failing_items(baseline, candidate, compare) == []
    baseline["false_hard_rate"] = 0.58  # the same candidate now cuts 0.14
    assert _failing_items(baseline, candidate, compare) == ["false-hard rate on the real scans"]
    per_set = {"visible_margin": {"test": 0.02}, "ncc_margin": {"test": 0.01}}  # relative instead of floors
    compare["test"]["candidate"].update(kappa_visible=0.79, ncc=0.639)  # baseline 0.82 / 0.65
    items = rv.judge(baseline, candidate, compare, per_set=per_set)
    assert [i.name for i in items if not i.passed] == [
        "test: kappa, lesions the B-mode shows, vs the baseline",
        "test: NCC of the scalar with the truth, vs the baseline",
    ]
    compare["test"]["candidate"].update(kappa_visible=0.80, ncc=0.64)  # exactly at the margins: pass
    assert all(i.passed for i in rv.judge(baseline, candidate, compare, per_set=per_set))


def test_a_malformed_per_set_value_is_refused_by_name(tmp_path, passing):
    with pytest.raises(SystemExit, match="--kappa-margin takes SET=NUMBER .* got '0.015'"):
        _run(tmp_path, *passing, "--kappa-margin", "0.015")
    with pytest.raises(SystemExit, match="--ncc-floor 'test=high': 'high' is not a number"):
        _run(tmp_path, *passing, "--ncc-floor", "test=high")
    with pytest.raises(SystemExit, match="--kappa-margin takes SET=NUMBER .* each SET once.* got 'test=0.02'"):
        _run(tmp_path, *passing, "--kappa-margin", "test=0.015", "test=0.02")
    assert _run(tmp_path, *passing, "--visible-floor", "test=0.95") == 1  # a failing rule exits 1


@pytest.mark.parametrize(("carcinomas", "passes"), [(46, True), (45, False)])
def test_a_hybrid_gain_asks_for_more_than_the_baseline(tmp_path, passing, capsys, carcinomas, passes):
    baseline, candidate, compare = passing
    candidate["hybrid"]["by_type"]["carcinoma"]["as_expected"] = carcinomas  # the baseline reads 41
    assert _run(tmp_path, baseline, candidate, compare, *RULE, "--hybrid-gain", "carcinoma=5") == (0 if passes else 1)
    line = next(x for x in capsys.readouterr().out.splitlines() if "carcinoma as expected, gain" in x)
    assert line.startswith("pass" if passes else "FAIL") and f"41 -> {carcinomas} (needs >= 46)" in line


@pytest.mark.parametrize(
    ("change", "low", "passes"), [(0.03, 0.001, True), (0.029, 0.001, False), (0.05, 0.0, False), (0.05, -0.01, False)]
)
def test_a_kappa_gain_needs_the_gain_and_an_interval_above_zero(tmp_path, passing, capsys, change, low, passes):
    baseline, candidate, compare = passing
    compare["held-out"]["change"].update(kappa=change, low=low, high=change + 0.04)
    rule = [*RULE, "--kappa-gain", "held-out=0.03"]
    assert _run(tmp_path, baseline, candidate, compare, *rule) == (0 if passes else 1)
    line = next(x for x in capsys.readouterr().out.splitlines() if "held-out: kappa gain" in x)
    assert line.startswith("pass" if passes else "FAIL") and "needs >= +0.030, and a 95 % CI above 0" in line


def test_a_hybrid_gain_needs_a_hybrid_reading(passing):
    baseline, candidate, compare = passing
    del candidate["hybrid"]
    items = rv.judge(baseline, candidate, compare, hybrid_gain={"carcinoma": 5})
    assert [i.detail for i in items if i.name.endswith("gain")] == ["not measured"]


@pytest.mark.parametrize(
    "values",
    [
        ["carcinoma"],
        ["lipoma=5"],
        ["carcinoma=five"],
        ["carcinoma=--3"],
        ["carcinoma=-3"],
        ["carcinoma=0"],
        ["carcinoma=5", "carcinoma=2"],
    ],  # fmt: skip
)
def test_a_malformed_hybrid_gain_is_refused_by_name(tmp_path, passing, values):
    with pytest.raises(SystemExit, match="--hybrid-gain"):
        _run(tmp_path, *passing, "--hybrid-gain", *values)
