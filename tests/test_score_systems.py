"""The score-system table (usegan.scoring.systems): every system's scale, labels and wording, which organ and mode
gets which system, and that the engines, templates, report and pages read their wording and cut-offs from it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_scoring import HARD, LESION, XX, YY, N, strain_with
from usegan.report.findings import describe_score
from usegan.scoring import qbox, score_rago, score_tsukuba, strain_ratio
from usegan.scoring.systems import (
    CONFIRMED_SCALES,
    HEADLINE_SCALE,
    RAGO,
    STIFFNESS,
    SWE_BREAST,
    SWE_LIVER,
    SWE_THYROID,
    SYSTEMS,
    TSUKUBA,
    confirmed_scale,
    headline_scale,
    on_headline_scale,
    proposal_scale,
    scale_named,
    system_for,
)
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.services import templates
from usegan.vocab import Mode, Organ, ScoreSystem

# Every system: its name, its classes and one class's wording (the wording the report and the picker show).
TABLE = [
    (ScoreSystem.TSUKUBA, "Tsukuba 1-5", (1, 2, 3, 4, 5), 4, "whole lesion hard"),
    (ScoreSystem.RAGO, "Rago 1-5", (1, 2, 3, 4, 5), 5, "no elasticity in the nodule or behind it"),
    (ScoreSystem.STRAIN_RATIO, "strain ratio class 1-2", (1, 2), 2, "strain ratio 3 or more"),
    (ScoreSystem.SWE_BREAST, "breast SWE class 1-2", (1, 2), 2, "Emax 80 kPa (5.2 m/s) or more: suspicious"),
    (ScoreSystem.SWE_THYROID, "thyroid SWE class 1-3", (1, 2, 3), 2, "Emax 69-120 kPa: suspicious"),
    (ScoreSystem.SWE_LIVER, "liver SWE class 1-5", (1, 2, 3, 4, 5), 3, "9-13 kPa: further tests needed"),
    (ScoreSystem.STIFFNESS, "stiffness 1-5", (1, 2, 3, 4, 5), 4, "stiff lesion"),
]


def test_every_score_system_is_in_the_table_once():
    assert set(SYSTEMS) == set(ScoreSystem) and len(TABLE) == len(ScoreSystem)
    assert set(CONFIRMED_SCALES) == set(ScoreSystem) - {ScoreSystem.STRAIN_RATIO}  # a ratio class is evidence only


@pytest.mark.parametrize(("system", "name", "scores", "score", "wording"), TABLE)
def test_each_system_has_its_name_classes_and_wording(system, name, scores, score, wording):
    scale = SYSTEMS[system]
    assert (scale.system, scale.name, scale.scores) == (system, name, scores)
    assert scale.scores == tuple(range(1, len(scores) + 1))  # classes are 1..n, no gaps
    assert scale.wording[score] == wording and scale.label(score) == f"{score}: {wording}"
    assert all(text and text == text.strip() for text in scale.wording.values())
    if system in CONFIRMED_SCALES:  # the Chinese report has every class, with the same cut-off numbers
        assert set(scale.wording_zh) == set(scale.wording) and scale.name_zh
        for n in scale.scores:
            numbers = [w for w in scale.wording[n].replace("(", " ").replace("-", " ").split() if w[0].isdigit()]
            assert all(number in scale.wording_zh[n] for number in numbers), (system, n)


@pytest.mark.parametrize(
    ("organ", "mode", "system"),
    [
        (Organ.BREAST, Mode.STRAIN, ScoreSystem.TSUKUBA),
        (Organ.THYROID, Mode.STRAIN, ScoreSystem.RAGO),
        (Organ.BREAST, Mode.SWE, ScoreSystem.SWE_BREAST),
        (Organ.THYROID, Mode.SWE, ScoreSystem.SWE_THYROID),
        (Organ.LIVER, Mode.SWE, ScoreSystem.SWE_LIVER),
    ],
)
def test_the_engine_scores_on_the_readings_own_scale(organ, mode, system):
    assert system_for(mode, organ) == system == confirmed_scale(organ, mode).system


def test_pairs_without_an_engine_are_confirmed_on_the_stiffness_scale_and_refused_by_the_engine():
    assert confirmed_scale(Organ.LIVER, Mode.STRAIN) is STIFFNESS
    assert confirmed_scale("kidney", Mode.SWE) is STIFFNESS
    with pytest.raises(ValueError, match="breast \\(Tsukuba\\) or thyroid \\(Rago\\), not 'liver'"):
        system_for(Mode.STRAIN, Organ.LIVER)
    with pytest.raises(ValueError, match="organ must be one of"):
        system_for(Mode.SWE, "kidney")
    with pytest.raises(ValueError, match="mode must be 'strain' or 'swe', got 'b-mode'"):
        system_for("b-mode", Organ.BREAST)
    with pytest.raises(ValueError, match=r"mode must be one of \['strain', 'swe'\], got 'b-mode'"):
        confirmed_scale(Organ.BREAST, "b-mode")


def test_headline_scale_is_the_organs_and_never_an_swe_class_for_breast_or_thyroid():
    assert HEADLINE_SCALE == {"breast": "tsukuba", "thyroid": "rago", "liver": "swe_liver"}
    assert headline_scale("breast") is TSUKUBA and headline_scale("thyroid") is RAGO
    assert headline_scale("liver") is SWE_LIVER and headline_scale("other") is STIFFNESS
    assert on_headline_scale("tsukuba", "breast") and on_headline_scale("swe_liver", "liver")
    assert not on_headline_scale("swe_breast", "breast") and not on_headline_scale("strain_ratio", "breast")


def test_scale_named_knows_only_confirmable_scales():
    assert scale_named("rago") is RAGO and scale_named("swe_thyroid") is SWE_THYROID
    assert scale_named("strain_ratio") is None and scale_named("nonsense") is None and scale_named(None) is None


def test_describe_and_check_name_the_scale():
    assert TSUKUBA.describe(4) == "Tsukuba 4 — whole lesion hard"
    assert SWE_BREAST.describe(2, "zh") == "乳腺剪切波分级 2 — Emax 不低于 80 kPa（5.2 m/s）：可疑"
    assert TSUKUBA.describe(None) == "-"
    assert RAGO.check(5.0) == 5 and RAGO.check(None) is None
    with pytest.raises(ValueError, match=r"6 is not on Rago 1-5 \(allowed: 1, 2, 3, 4, 5\)"):
        RAGO.check(6)
    with pytest.raises(ValueError, match="integer on breast SWE class 1-2"):
        SWE_BREAST.check(True)


def test_proposal_scales_say_what_a_proposed_number_means():
    assert proposal_scale("tsukuba") == "Tsukuba 1-5" and proposal_scale("rago") == "Rago 1-5"
    assert proposal_scale("strain_ratio") == "1 below / 2 at or above the cut-off"
    assert "not Tsukuba" in proposal_scale("swe_breast") and "not Rago" in proposal_scale("swe_thyroid")
    assert proposal_scale("swe_liver") == "SWE class 1-5 by Emean, SRU 2020" and proposal_scale("x") == ""


# --- the engines label their proposals from the table ---------------------------------------------------------


@pytest.mark.parametrize(("pattern", "grade"), [("soft", 1), ("scattered", 2), ("centre", 3), ("whole", 4)])
def test_engine_labels_are_the_tables_wording(pattern, grade):
    assert score_tsukuba(strain_with(pattern), LESION).label == TSUKUBA.label(grade)
    assert score_rago(strain_with(pattern), LESION).label == RAGO.label(grade)


def test_bgr_labels_come_from_the_table():
    assert score_tsukuba(strain_with("bgr"), LESION).label == TSUKUBA.bgr_label
    assert (
        score_rago(strain_with("bgr"), LESION).label
        == RAGO.bgr_label
        == ("1: BGR sign (blue-green-red layers): cystic pattern")
    )


def test_rago_rule_names_the_tissue_behind_the_nodule_without_editing_tsukubas_rule():
    behind = strain_with("whole")
    behind[(YY > 40) & (np.abs(XX - 32) < 20)] = HARD
    five = score_rago(behind, LESION).figures["rule"]
    assert five.startswith("lesion hard fraction 1.00 >= 0.80 and posterior (behind-nodule) hard fraction")
    four = score_rago(strain_with("whole"), LESION).figures["rule"]
    assert "posterior (behind-nodule) hard fraction" in four and "ring" not in four
    assert "ring hard fraction" in score_tsukuba(strain_with("whole"), LESION).figures["rule"]


# --- the cut-offs are typed once (thresholds.py) and every wording follows them ---------------------------------


def test_swe_wording_and_templates_use_the_threshold_values():
    t = DEFAULT_THRESHOLDS
    assert f"{t.breast_emax_suspicious_kpa:g} kPa" in SWE_BREAST.wording[1]
    assert f"{t.thyroid_emax_suspicious_kpa:g}-{t.thyroid_emax_highly_suspicious_kpa:g} kPa" in SWE_THYROID.wording[2]
    liver = (t.liver_normal_kpa, t.liver_rule_out_cacld_kpa, t.liver_cacld_kpa, t.liver_portal_hypertension_kpa)
    assert [f"{v:g} kPa" in SWE_LIVER.wording[n] for v, n in zip(liver, (1, 2, 4, 5), strict=True)] == [True] * 4
    assert "80 kPa (5.2 m/s)" in templates.reading_template("breast", "swe", 2)
    assert "Liver stiffness > 17 kPa" in templates.conclusion_template("liver", 5)


@pytest.mark.parametrize(
    ("organ", "kpa", "score"),
    [("breast", 79.0, 1), ("breast", 80.0, 2), ("thyroid", 68.0, 1), ("thyroid", 69.0, 2), ("thyroid", 120.0, 3),
     ("liver", 5.0, 1), ("liver", 8.9, 2), ("liver", 9.0, 3), ("liver", 13.5, 4), ("liver", 17.5, 5)],
)  # fmt: skip
def test_the_engine_class_at_each_cut_off_matches_the_tables_wording(organ, kpa, score):
    result = qbox(np.full((N, N), kpa), LESION, organ=organ)
    assert result.score == score and result.system == f"swe_{organ}"
    assert SYSTEMS[result.system].wording[score]  # the class the engine gives exists on the table's scale


def test_strain_ratio_class_follows_the_threshold():
    soft_lesion = np.full((N, N), 0.8)
    soft_lesion[LESION] = 0.2  # ratio 4 >= 3
    result = strain_ratio(soft_lesion, LESION, ~LESION)
    assert result.score == 2 and result.figures["cutoff"] == DEFAULT_THRESHOLDS.strain_ratio_cutoff
    assert strain_ratio(soft_lesion, LESION, ~LESION, Thresholds(strain_ratio_cutoff=5.0)).score == 1


# --- the old call sites give the same words -------------------------------------------------------------------------


def test_report_and_templates_read_the_table():
    assert describe_score("tsukuba", 4) == "Tsukuba 4 — whole lesion hard"
    assert describe_score("rago", 3, "zh") == "Rago 评分 3 — 仅结节周边有弹性"
    assert describe_score("strain_ratio", 2, label="strain ratio 3.4 >= 3: suspicious") == (
        "strain ratio 3.4 >= 3: suspicious"
    )  # not a confirmable scale: its own label
    assert templates.conclusion_template("thyroid", 4).startswith("No elasticity in the nodule (Rago 4)")
    assert templates.reading_template("breast", "strain", 4).startswith("Whole lesion hard (Tsukuba 4)")
    for (organ, mode), scale in {("breast", "swe"): SWE_BREAST, ("liver", "strain"): STIFFNESS}.items():
        assert set(templates.TEMPLATES[scale.system]) == set(scale.scores)  # a template for every class
        assert templates.reading_template(organ, mode, scale.scores[-1])
