"""Score engines: table-driven classes, monotonicity (hypothesis), ratio, Q-box, ROIs, bad input, validation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from usegan.colormaps import strain_colormap, swe_colormap
from usegan.scoring import (
    Polygon,
    Rect,
    RoiError,
    StrainScale,
    parse_rect,
    propose,
    qbox,
    roi_from_dict,
    roi_iou,
    roi_to_mask,
    score_rago,
    score_tsukuba,
    strain_ratio,
)
from usegan.scoring.swe import kpa_to_speed

N = 64
YY, XX = np.mgrid[:N, :N]
R2 = (YY - 32) ** 2 + (XX - 32) ** 2
LESION = R2 < 12**2
SOFT, HARD = 0.8, 0.1


def strain_with(pattern: str) -> np.ndarray:
    s = np.full((N, N), SOFT, np.float32)
    if pattern == "scattered":
        s[LESION & ((XX + YY) % 5 == 0)] = HARD
    elif pattern == "centre":
        s[R2 < 6**2] = HARD
    elif pattern == "whole":
        s[LESION] = HARD
    elif pattern == "halo":
        s[R2 < 16**2] = HARD
    elif pattern == "bgr":
        s[LESION & (YY < 28)] = HARD
        s[LESION & (YY >= 28) & (YY < 36)] = 0.5
        s[LESION & (YY >= 36)] = 0.95
    return s


@pytest.mark.parametrize(
    ("pattern", "expected"), [("soft", 1), ("scattered", 2), ("centre", 3), ("whole", 4), ("halo", 5)]
)
def test_tsukuba_classes(pattern, expected):
    result = score_tsukuba(strain_with(pattern), LESION)
    assert result.score == expected
    assert result.label.startswith(f"{expected}:")
    assert result.figures["hardness_grade"] == expected
    assert result.figures["bgr_sign"] is False


def test_tsukuba_figures_explain_the_score():
    figures = score_tsukuba(strain_with("centre"), LESION).figures
    assert figures["core_hard_fraction"] > 0.5 > figures["rim_hard_fraction"]
    assert figures["lesion_pixels"] == int(LESION.sum())
    assert "core hard fraction" in figures["rule"]
    scattered = score_tsukuba(strain_with("scattered"), LESION).figures
    assert scattered["mosaic_index"] > 0.2 and scattered["hard_components"] > 10


def test_bgr_cyst_is_flagged_and_scored_1():
    result = score_tsukuba(strain_with("bgr"), LESION)
    assert result.score == 1 and result.figures["bgr_sign"] is True
    assert "BGR" in result.label
    # Upside down (red on top) is not the cyst sign.
    assert score_tsukuba(strain_with("bgr")[::-1].copy(), LESION[::-1].copy()).figures["bgr_sign"] is False


def test_rago_uses_the_tissue_behind_the_nodule():
    behind = strain_with("whole")
    behind[(YY > 40) & (np.abs(XX - 32) < 20)] = HARD  # hard only deeper than the nodule
    assert score_rago(behind, LESION).score == 5
    above = strain_with("whole")
    above[(YY < 24) & (np.abs(XX - 32) < 20)] = HARD
    result = score_rago(above, LESION)
    assert result.score == 4 and result.label == "4: no elasticity in the nodule"
    assert score_rago(strain_with("soft"), LESION).label == "1: elasticity throughout the nodule"


@st.composite
def lesion_and_hardening(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    base = np.clip(rng.uniform(0, 1, (N, N)) * draw(st.floats(0.2, 1.0)) + draw(st.floats(0, 0.8)), 0, 1)
    if draw(st.booleans()):  # blocky patterns reach the core/ring/whole rules, not only scattered pixels
        blocks = rng.uniform(0, 1, (8, 8)).repeat(8, 0).repeat(8, 1)
        base = np.clip(blocks * draw(st.floats(0.3, 1.0)) + draw(st.floats(0, 0.6)), 0, 1)
    harden = rng.uniform(0, draw(st.floats(0, 1)), (N, N)) * LESION
    return base.astype(np.float32), np.clip(base - harden, 0, 1).astype(np.float32)


@settings(max_examples=40, deadline=None)
@given(lesion_and_hardening())
def test_harder_lesion_never_lowers_the_proposed_score(pair):
    before, after = pair
    cmap = strain_colormap()
    first = propose(cmap.apply(before), "strain", LESION)
    second = propose(cmap.apply(after), "strain", LESION)
    # The BGR cyst sign is the documented exception (a categorical sign scored 1, not a hardness grade).
    assume(not first.figures["bgr_sign"] and not second.figures["bgr_sign"])
    assert second.score >= first.score


def test_strain_ratio_linear_and_log():
    s = np.where(LESION, 0.2, 0.8).astype(np.float32)
    ref = (YY < 10) & (XX < 10)
    linear = strain_ratio(s, LESION, ref)
    assert linear.figures["strain_ratio"] == pytest.approx(4.0, rel=1e-5)
    assert linear.score == 2 and "suspicious" in linear.label
    log = strain_ratio(s, LESION, ref, scale=StrainScale("log", 8.0))
    assert log.figures["strain_ratio"] == pytest.approx(8.0 ** (2 * 0.8 - 1) / 8.0 ** (2 * 0.2 - 1), rel=1e-4)
    assert strain_ratio(np.full((N, N), 0.5, np.float32), LESION, ref).score == 1
    zero = strain_ratio(np.where(LESION, 0.0, 0.8).astype(np.float32), LESION, ref)
    assert zero.score is None and "unbounded" in zero.reason


def test_qbox_statistics_and_speed():
    kpa = np.where(LESION, 100.0, 20.0).astype(np.float32)
    kpa[32, 32] = 150.0
    ref = (YY < 10) & (XX < 10)
    result = qbox(kpa, LESION, ref, "breast")
    f = result.figures
    assert f["emax_kpa"] == 150.0 and f["emin_kpa"] == 100.0
    assert f["emean_kpa"] == pytest.approx((100.0 * (LESION.sum() - 1) + 150.0) / LESION.sum())
    assert f["sd_kpa"] > 0 and f["eratio"] == pytest.approx(f["emean_kpa"] / 20.0)
    assert f["max_speed_ms"] == pytest.approx(float(kpa_to_speed(150.0)))
    assert float(kpa_to_speed(80.0)) == pytest.approx(5.16, abs=0.01)
    assert result.score == 2


@pytest.mark.parametrize(
    ("organ", "kpa", "score"),
    [
        ("breast", 79.0, 1),
        ("breast", 80.0, 2),
        ("thyroid", 68.0, 1),
        ("thyroid", 69.0, 2),
        ("thyroid", 120.0, 3),
        ("liver", 5.0, 1),
        ("liver", 8.9, 2),
        ("liver", 9.0, 3),
        ("liver", 13.0, 3),
        ("liver", 13.5, 4),
        ("liver", 17.5, 5),
    ],
)
def test_organ_interpretation(organ, kpa, score):
    result = qbox(np.full((N, N), kpa, np.float32), LESION, organ=organ)
    assert (result.system, result.score) == (f"swe_{organ}", score)


def test_propose_swe_reads_the_colour_scale():
    cmap = swe_colormap(0, 100)
    kpa = np.where(LESION, 60.0, 10.0)
    result = propose(cmap.apply(kpa), "swe", Rect(26, 26, 12, 12), organ="liver", colormap=cmap)
    assert result.figures["emean_kpa"] == pytest.approx(60.0, abs=cmap.resolution)
    assert result.score == 5 and result.figures["lesion_at_scale_max_fraction"] == 0.0
    saturated = propose(cmap.apply(np.full((N, N), 150.0)), "swe", LESION, colormap=cmap)
    assert saturated.figures["lesion_at_scale_max_fraction"] == 1.0


def test_propose_attaches_strain_ratio_except_on_bgr():
    cmap = strain_colormap()
    ref = Rect(0, 0, 10, 10)
    result = propose(cmap.apply(strain_with("whole")), "strain", LESION, ref)
    assert result.score == 4 and result.secondary[0].figures["strain_ratio"] == pytest.approx(8.0, rel=0.05)
    cyst = propose(cmap.apply(strain_with("bgr")), "strain", LESION, ref)
    assert cyst.score == 1 and cyst.secondary[0].score is None and "BGR" in cyst.secondary[0].reason
    json.dumps(result.to_dict())  # JSON-safe, nested secondary included


# --- ROIs and bad input ---------------------------------------------------------------------------------------


def test_roi_overlap_is_intersection_over_union_and_zero_for_an_roi_that_cannot_be_drawn():
    assert roi_iou(Rect(0, 0, 10, 10), Rect(0, 0, 10, 10), (N, N)) == 1.0
    assert roi_iou(Rect(0, 0, 10, 10), Rect(5, 0, 10, 10), (N, N)) == 50 / 150
    assert roi_iou(Rect(0, 0, 10, 10), Rect(20, 20, 5, 5), (N, N)) == 0.0
    assert roi_iou(Rect(0, 0, 30, 24), Rect(1, 0, 30, 24), (N, N)) >= 0.9  # a pixel off: the same outline
    assert roi_iou(Rect(0, 0, 10, 10), Rect(3, 3, 0, 5), (N, N)) == 0.0  # zero area: no mask, no overlap


def test_roi_types():
    assert roi_to_mask(Rect(2, 3, 4, 5), (N, N)).sum() == 20
    clipped = roi_to_mask(Rect(-5, -5, 10, 10), (N, N))
    assert clipped.sum() == 25 and clipped[:5, :5].all()
    triangle = roi_to_mask(Polygon(((10, 10), (30, 10), (10, 30))), (N, N))
    assert 180 < triangle.sum() < 260 and triangle[12, 12] and not triangle[28, 28]
    assert roi_to_mask(LESION.astype(np.uint8) * 255, (N, N)).sum() == LESION.sum()
    assert parse_rect(" 1, 2,3,4") == Rect(1, 2, 3, 4)
    for roi in (Rect(1, 2, 3, 4), Polygon(((0.0, 0.0), (5.0, 0.0), (0.0, 5.0)))):
        assert roi_from_dict(roi.to_dict()) == roi
        untyped = {k: v for k, v in roi.to_dict().items() if k != "type"}  # as a report's ROIs may come
        assert roi_from_dict(untyped) == roi
    with pytest.raises(RoiError, match="type"):
        roi_from_dict({"x": 1, "y": 2})
    from usegan.scoring.roi import role_mask

    rect = Rect(10, 10, 20, 12)
    assert role_mask(rect, (N, N), "reference").sum() == 240  # as drawn
    lesion = role_mask(rect, (N, N), "lesion")  # as scored: the inscribed ellipse, corners left out
    assert 150 < lesion.sum() < 240 and not lesion[10, 10] and lesion[16, 20]


@pytest.mark.parametrize(
    ("roi", "message"),
    [
        (Rect(100, 100, 5, 5), "outside"),
        (Rect(10, 10, 0, 5), "zero area"),
        (Polygon(((1, 1), (5, 5))), "at least 3"),
        (Polygon(((200, 200), (220, 200), (200, 220))), "outside"),
        (np.ones((N, N + 1), bool), "mask is"),
        (np.zeros((N, N), bool), "zero area"),
    ],
)
def test_bad_rois_cannot_score(roi, message):
    with pytest.raises(RoiError, match=message):
        roi_to_mask(roi, (N, N))
    result = propose(strain_colormap().apply(strain_with("whole")), "strain", roi)
    assert result.score is None and message in result.reason and result.label.startswith("cannot score")


def test_mostly_unknown_colours_cannot_score():
    rgb = strain_colormap().apply(strain_with("whole"))
    rgb[LESION & (YY > 26)] = 128  # gray B-mode over most of the lesion
    result = propose(rgb, "strain", LESION)
    assert result.score is None and "unknown colours" in result.reason
    swe = propose(np.full((N, N, 3), 90, np.uint8), "swe", LESION)
    assert swe.score is None and "unknown colours" in swe.reason


def test_tiny_lesion_cannot_score():
    mask = np.zeros((N, N), bool)
    mask[5:8, 5:8] = True
    result = score_tsukuba(strain_with("soft"), mask)
    assert result.score is None and "fewer than" in result.reason


@pytest.mark.parametrize(
    "call",
    [
        lambda: score_tsukuba(np.zeros((N, N, 3), np.float32), LESION),
        lambda: score_tsukuba(np.zeros((N, N), np.float32), LESION[:10]),
        lambda: score_tsukuba(np.full((N, N), 2.0, np.float32), LESION),
        lambda: strain_ratio(np.zeros((N, N), np.float32), LESION, LESION[:, :10]),
        lambda: qbox(np.full((N, N), -1.0, np.float32), LESION),
        lambda: qbox(np.ones((N, N), np.float32), LESION, organ="kidney"),
        lambda: propose(np.zeros((N, N, 3), np.uint8), "strain", LESION, organ="liver"),
        lambda: propose(np.zeros((N, N), np.uint8), "strain", LESION),
        lambda: propose(np.zeros((N, N, 3), np.uint8), "swe", LESION, colormap=strain_colormap()),
    ],
)
def test_programmer_errors_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_every_threshold_cites_its_source():
    source = Path(__file__).parents[1].joinpath("usegan/scoring/thresholds.py").read_text()
    fields = re.findall(r"^    (\w+): (?:float|int) = .*$", source, flags=re.M)
    assert len(fields) > 20
    for line in re.findall(r"^    \w+: (?:float|int) = .*$", source, flags=re.M):
        assert "#" in line, line
    assert "[SRU20]" in source and "[BE1-12]" in source and "[Itoh06]" in source


def test_validation_against_phantom_truth():
    from usegan.scoring.validation import validate

    report = validate(n_cases=40, size=96, seed=7)
    assert report.n_cases == 40
    assert report.tsukuba_agreement >= 0.95, report.summary()
    assert report.ratio_n >= 25 and report.ratio_agreement >= 0.95, report.summary()
    assert report.emean_display_within_2kpa == report.emean_n, report.summary()
    # Any Emean miss against the raw truth must be a lesion beyond the top of the SWE colour scale.
    assert report.emean_n - report.emean_within_2kpa <= report.emean_saturated


def test_rectangle_around_a_hard_lesion_is_scored_as_its_inscribed_ellipse():
    """A bounding rectangle's corners are surrounding tissue: scored as drawn they would read as a soft rim."""
    from usegan.colormaps import strain_colormap
    from usegan.scoring import Rect, propose
    from usegan.scoring.roi import lesion_mask

    size = 96
    yy, xx = np.mgrid[:size, :size]
    lesion = (xx - 48) ** 2 + (yy - 48) ** 2 <= 20**2
    strain = np.where(lesion, 0.05, 0.9)  # hard disc in soft tissue
    rgb = strain_colormap().apply(strain)
    rect = Rect(28, 28, 41, 41)
    mask, how = lesion_mask(rect, (size, size))
    assert how == "ellipse inscribed in the drawn rectangle"
    assert mask.sum() < 41 * 41 and not mask[28, 28] and mask[48, 48]
    result = propose(rgb, "strain", rect, organ="breast")
    assert result.score == 4 and result.figures["lesion_roi_shape"] == how
    as_drawn = propose(rgb, "strain", np.pad(np.ones((41, 41), bool), ((28, 27), (28, 27))), organ="breast")
    assert as_drawn.score < 4  # the same rectangle given as a mask keeps its soft corners
