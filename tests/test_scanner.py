"""Scanner and operator variety: held-out ranges lie outside the training ranges; overlays and compression change
the B-mode only."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

from usegan.phantom.case import make_case, random_case_of_type, teaching_params
from usegan.phantom.scanner import (
    HELD_OUT,
    SHIFT_GROUPS,
    TRAINING,
    Display,
    jpeg_roundtrip,
    sample_scanner,
)

CONTINUOUS = [f.name for f in fields(TRAINING) if isinstance(getattr(TRAINING, f.name), tuple)]


@pytest.mark.parametrize("name", [n for n in CONTINUOUS if n not in ("compounding", "labels")])
def test_held_out_ranges_do_not_overlap_training(name):
    (lo, hi), *_ = getattr(TRAINING, name)
    for a, b in getattr(HELD_OUT, name):
        assert b <= lo or a >= hi, (name, (a, b), (lo, hi))


def test_held_out_labels_and_compounding_are_new():
    assert not set(HELD_OUT.labels) & set(TRAINING.labels)
    assert min(HELD_OUT.compounding) > max(TRAINING.compounding)


def test_sampled_chains_vary_and_stay_in_range():
    rng = np.random.default_rng(0)
    configs = [sample_scanner(rng, 18.0, 40.0)[0] for _ in range(30)]
    gains = [c.gain_db for c in configs]
    assert len(set(gains)) == 30 and all(-35.0 <= g <= -21.0 for g in gains)
    assert any(c.scatterer_density < 1.0 for c in configs) and any(c.compounding > 1 for c in configs)
    assert all(3.0 <= c.focus_mm <= 38.0 for c in configs)


def test_overlays_and_jpeg_change_the_bmode_only():
    params = replace(teaching_params("malignant", seed=3), lateral_mm=0.0)
    plain = make_case(params, seed=5, size=96)
    shown = make_case(
        params,
        seed=5,
        size=96,
        display=Display(overlays=True, labels=("RT BREAST",), calipers=True, depth_scale=True, jpeg_quality=40),
    )
    assert not np.array_equal(plain.bmode, shown.bmode)
    np.testing.assert_array_equal(plain.strain_rgb, shown.strain_rgb)  # the truth is the tissue's, not the screen's
    np.testing.assert_array_equal(plain.swe_rgb, shown.swe_rgb)
    np.testing.assert_array_equal(plain.mask, shown.mask)
    assert shown.meta()["display"]["jpeg_quality"] == 40


def test_jpeg_quality_is_validated():
    with pytest.raises(ValueError, match="JPEG quality"):
        jpeg_roundtrip(np.zeros((8, 8), np.uint8), 120)


def test_held_out_cases_are_rendered_with_held_out_settings():
    case = random_case_of_type(7, "malignant", 64, scanner="held-out")
    meta = case.meta()
    assert meta["bmode"]["compounding"] in HELD_OUT.compounding and meta["display"]["overlays"]
    with pytest.raises(ValueError, match="scanner profile"):
        random_case_of_type(7, "malignant", 64, scanner="nope")


def test_one_chain_fixes_every_setting_but_gain_and_dynamic_range():
    rng = np.random.default_rng(0)
    drawn = [sample_scanner(rng, 18.0, 40.0, profile="one-chain") for _ in range(20)]
    configs, displays = [c for c, _ in drawn], [d for _, d in drawn]
    assert len({c.gain_db for c in configs}) == 20 and len({c.dynamic_range_db for c in configs}) == 20
    for name in ("frequency_mhz", "lateral_fwhm_mm", "smooth_px", "scatterer_density", "compounding", "reverb_db"):
        assert len({getattr(c, name) for c in configs}) == 1, name
    assert configs[0].scatterer_density == 1.0 and configs[0].compounding == 1  # fully developed, no compounding
    assert not any(d.overlays or d.jpeg_quality for d in displays)
    assert random_case_of_type(7, "malignant", 64, scanner="one-chain").meta()["params"]["fov_mm"] == 40.0


def test_shift_groups_cover_every_setting_once():
    grouped = [name for group in SHIFT_GROUPS.values() for name in group]
    assert sorted(grouped) == sorted(f.name for f in fields(TRAINING))


def test_an_unknown_shift_group_is_named():
    with pytest.raises(ValueError, match="'held-out:lens'"):
        sample_scanner(np.random.default_rng(0), 10.0, 40.0, "held-out:lens")


def test_a_jpeg_shifted_case_is_compressed_harder_than_training_allows():
    case = random_case_of_type(11, "malignant", 64, scanner="held-out:jpeg")
    assert 15 <= case.meta()["display"]["jpeg_quality"] <= 30


MOVED = {  # the drawn fields each group decides (meta's "bmode" and "display")
    "beam": {"frequency_mhz", "axial_fwhm_mm", "lateral_fwhm_mm", "focus_mm", "rayleigh_mm"},
    "grey": {"dynamic_range_db", "gain_db", "tgc_slope_db_cm"},
    "smoothing": {"smooth_px", "smooth_lateral_px", "compounding"},
    "speckle": {"scatterer_density"},
    "noise": {"noise_db", "reverb_db"},
    "fov": {"focus_mm"},  # the focus follows the lesion, drawn in another field of view
    "overlays": {"overlays", "labels", "calipers", "depth_scale", "focus_marker", "font_px"},
    "jpeg": {"jpeg_quality"},
}


@pytest.mark.parametrize("group", sorted(SHIFT_GROUPS))
def test_a_shifted_case_is_the_training_case_with_only_its_group_drawn_anew(group):
    moved_any = False
    for seed in (3, 4, 5):
        plain = random_case_of_type(seed, "malignant", 48).meta()
        shown = random_case_of_type(seed, "malignant", 48, scanner=f"held-out:{group}").meta()
        chain = {**plain["bmode"], **plain["display"]}
        other = {**shown["bmode"], **shown["display"]}
        changed = {k for k in chain if chain[k] != other[k]}
        assert changed <= MOVED[group], (group, seed, changed - MOVED[group])
        moved_any |= bool(changed) or group == "fov"  # fov: the field of view itself (params), checked below
        if group != "fov":  # the field of view sets the pixel spacing, so the tissue is drawn in other pixels
            assert shown["box"] == plain["box"] and shown["params"] == plain["params"]
        else:
            assert shown["params"]["fov_mm"] != plain["params"]["fov_mm"]
    assert moved_any, f"held-out:{group} drew nothing other than the training scanner"
