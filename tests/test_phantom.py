"""Phantom simulator: physics checks (speckle, enhancement, shadowing, strain), labels, determinism, CLI."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from usegan.cli import main
from usegan.colormaps import swe_colormap
from usegan.phantom import LESION_TYPES, PhantomParams, make_case, random_case, teaching_params
from usegan.phantom.bmode import BModeConfig, speckle_envelope
from usegan.phantom.mechanics import MechanicsConfig, axial_strain
from usegan.phantom.render import box_mask
from usegan.phantom.writer import read_case

RAYLEIGH_SNR = np.sqrt(np.pi / (4 - np.pi))  # 1.913: mean / std of a Rayleigh envelope


# --- B-mode realism ------------------------------------------------------------------------------------------


def test_fully_developed_speckle_has_rayleigh_snr():
    snrs = []
    for seed in range(4):
        echo = np.ones((128, 128), dtype=np.float32)
        atten = np.full((128, 128), 0.75, dtype=np.float32)  # = the TGC's attenuation: flat gain with depth
        env = speckle_envelope(echo, atten, 40 / 128, np.random.default_rng(seed))
        region = env[16:-16, 16:-16]
        snrs.append(region.mean() / region.std())
    assert abs(np.mean(snrs) - RAYLEIGH_SNR) < 0.08, snrs


def _columns_behind(mask: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, slice]:
    """Columns of the lesion's central half, columns well away from it, rows just below it."""
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    width = cols[-1] - cols[0]
    centre = np.arange(cols[0] + width // 4, cols[-1] - width // 4)
    away = np.array([c for c in range(size) if c < cols[0] - width // 2 or c > cols[-1] + width // 2])
    below = slice(rows[-1] + 3, min(size - 8, rows[-1] + 3 + (rows[-1] - rows[0])))
    return centre, away, below


def test_cyst_is_darker_than_fat_with_enhancement_behind():
    params = replace(teaching_params("cyst", size_mm=10, depth_mm=17, seed=1), lateral_mm=0.0, angle_deg=0.0)
    case = make_case(params, seed=3, size=128)
    fat = case.envelope[(case.stiffness_kpa == params.fat_kpa) & ~case.mask]
    interior = ndimage.binary_erosion(case.mask, iterations=3)  # away from the PSF-blurred bright wall
    assert case.envelope[interior].mean() < 0.2 * fat.mean()
    centre, away, below = _columns_behind(case.mask, 128)
    behind = case.bmode[below][:, centre].astype(float).mean()
    beside = case.bmode[below][:, away].astype(float).mean()
    assert behind > beside + 10, (behind, beside)


def test_stiff_attenuating_lesion_casts_a_shadow():
    params = replace(teaching_params("malignant", size_mm=9, depth_mm=16, seed=2), lateral_mm=0.0, lesion_atten=2.0)
    case = make_case(params, seed=4, size=128)
    centre, away, below = _columns_behind(case.mask, 128)
    assert case.bmode[below][:, centre].mean() < case.bmode[below][:, away].mean() - 10


def test_broad_shadows_darken_the_bmode_below_them_and_leave_stiffness_alone():
    from usegan.phantom.tissue import build_tissue

    params = replace(teaching_params("none", seed=5), ligament_shadows=0, chest_wall_mm=0.0)
    plain = make_case(params, seed=6, size=128)
    shadowed = make_case(replace(params, broad_shadows=2), seed=6, size=128)
    np.testing.assert_array_equal(shadowed.stiffness_kpa, plain.stiffness_kpa)  # appearance only
    np.testing.assert_array_equal(shadowed.strain, plain.strain)
    assert shadowed.labels == plain.labels
    # the shadows are the last draws of build_tissue: the same seed gives the same anatomy plus the origin bands,
    # which start in the upper half (above 64 px, 3 mm thick at most)
    with_shadows = build_tissue(replace(params, broad_shadows=2), 128, np.random.default_rng(0)).atten
    without = build_tissue(params, 128, np.random.default_rng(0)).atten
    rows, columns = np.nonzero(with_shadows > without)
    assert columns.size and rows.max() < 64 + 10
    deep = slice(100, 128)
    ratio = shadowed.envelope[deep].mean(axis=0) / plain.envelope[deep].mean(axis=0)
    assert ratio.min() < 0.5, ratio.min()  # 6-20 dB two-way loss at a shadow's centre
    assert np.mean(ratio > 0.95) > 0.3  # beside the shadows the image is unchanged
    # a draw gives about one scan in two one or two broad shadows, all in 0-2
    from usegan.phantom.case import sample_params

    draws = [sample_params(np.random.default_rng(i), "malignant").broad_shadows for i in range(200)]
    assert set(draws) <= {0, 1, 2} and 0.4 < np.mean([d > 0 for d in draws]) < 0.8


def test_edge_bands_darken_the_lateral_margins_only():
    params = replace(teaching_params("malignant", seed=5), ligament_shadows=0, broad_shadows=0)
    plain = make_case(params, seed=6, size=128)
    banded = make_case(replace(params, edge_dark_left_mm=6.0), seed=6, size=128)
    np.testing.assert_array_equal(banded.stiffness_kpa, plain.stiffness_kpa)  # appearance only
    assert banded.labels == plain.labels
    ratio = banded.envelope.mean(axis=0) / plain.envelope.mean(axis=0)
    band_px = int(6.0 / (params.fov_mm / 128))
    assert ratio[: band_px // 3].mean() < 0.5, ratio[:band_px]  # 10-25 dB at the edge (amplitude, PSF-blurred)
    # nothing beyond the band (the last columns: the speckle PSF wraps around the image by a pixel or two)
    assert np.allclose(ratio[band_px + 1 : -3], 1.0, atol=0.05)


# --- strain physics ------------------------------------------------------------------------------------------


def test_homogeneous_medium_strains_uniformly_at_the_applied_strain():
    strain = axial_strain(np.full((64, 64), 20.0, np.float32), MechanicsConfig(grid=32))
    np.testing.assert_allclose(strain, 0.01, rtol=1e-3)


def test_layered_medium_strain_is_inverse_to_stiffness():
    # Series springs: with nu = 0 the layers carry the same stress, so strain ratio = modulus ratio exactly.
    stiffness = np.full((64, 64), 10.0, np.float32)
    stiffness[32:] = 40.0
    strain = axial_strain(stiffness, MechanicsConfig(grid=32, poisson=0.0))
    ratio = strain[:28].mean() / strain[36:].mean()
    assert ratio == pytest.approx(4.0, rel=0.02)


@pytest.mark.parametrize("contrast", [2.0, 4.0, 8.0])
def test_stiff_inclusion_strain_contrast_follows_eshelby(contrast):
    # Incompressible plane strain: inclusion strain / far-field strain = 2 / (1 + c) (Kallel et al. 1996).
    n = 128
    yy, xx = np.mgrid[0:n, 0:n]
    r2 = (yy - n / 2) ** 2 + (xx - n / 2) ** 2
    stiffness = np.full((n, n), 20.0, np.float32)
    stiffness[r2 < (n / 10) ** 2] = 20.0 * contrast
    strain = axial_strain(stiffness)
    far = strain[:12].mean()
    inside = strain[r2 < (n / 20) ** 2].mean()
    assert far / inside == pytest.approx((1 + contrast) / 2, rel=0.12)
    assert far / inside < contrast  # strain contrast understates modulus contrast
    # Stress concentration: higher strain beside the inclusion, lower above / below it.
    assert strain[n // 2, :].max() > 1.05 * far
    assert strain[n // 2 - n // 10 - 3, n // 2] < 0.95 * far


# --- labels ----------------------------------------------------------------------------------------------------

EXPECTED_TSUKUBA = {
    ("cyst", "uniform"): 1,
    ("fibroadenoma", "uniform"): 1,
    ("fibroadenoma", "mosaic"): 2,
    ("fibroadenoma", "core"): 3,
    ("malignant", "uniform"): 4,
    ("malignant_halo", "uniform"): 5,
    ("iso_stiff", "uniform"): 4,
}


@pytest.mark.parametrize(("lesion_type", "pattern"), sorted(EXPECTED_TSUKUBA))
def test_labels_follow_the_documented_rules(lesion_type, pattern):
    for seed in range(2):
        # a halo lesion (drawn 6-11 mm) at 11 mm plus its halo can fill most of the box it is normalised against,
        # as a too-small box does on a scanner; the rule is checked at a typical 9 mm
        size_mm = 9 if lesion_type == "malignant_halo" else 11
        params = replace(teaching_params(lesion_type, seed=seed, size_mm=size_mm), pattern=pattern)
        if lesion_type == "fibroadenoma" and pattern == "uniform":  # soft: about the gland's modulus
            params = replace(params, lesion_kpa=params.gland_kpa * 1.1, lesion_soft_kpa=params.gland_kpa * 1.1)
        elif pattern == "uniform":
            params = replace(params, lesion_soft_kpa=params.lesion_kpa)
        else:
            params = replace(params, lesion_kpa=params.gland_kpa * 6, lesion_soft_kpa=params.gland_kpa)
        case = make_case(params, seed=seed, size=128)
        labels = case.labels
        assert labels["tsukuba"] == EXPECTED_TSUKUBA[(lesion_type, pattern)], (seed, labels["tsukuba_figures"])
        assert labels["bgr"] == (lesion_type == "cyst")
        fat = (case.stiffness_kpa == params.fat_kpa) & (np.arange(128)[:, None] < 128 * 0.5)  # the top layer
        inside = box_mask(case.mask.shape, case.box)
        expected_ratio = case.strain[fat & inside].mean() / case.strain[case.mask].mean()
        assert labels["strain_ratio"] == pytest.approx(expected_ratio, rel=1e-3)
        assert labels["emean_kpa"] == pytest.approx(case.stiffness_kpa[case.mask].mean(), rel=1e-3)
        assert labels["emax_kpa"] == pytest.approx(params.lesion_kpa, rel=1e-3)
        if lesion_type in ("malignant", "malignant_halo", "iso_stiff"):
            assert labels["strain_ratio"] > 3.0  # suspicious by the strain-ratio cut-off too


def test_no_lesion_case_has_no_score():
    case = random_case(5, size=64, types=["none"])
    assert not case.mask.any()
    assert case.labels["tsukuba"] is None and case.labels["strain_ratio"] is None


def test_elastograms_are_colour_in_the_box_and_bmode_outside():
    case = make_case(teaching_params("malignant_halo", seed=3), seed=3, size=96)
    inside = box_mask(case.mask.shape, case.box)
    for rgb in (case.strain_rgb, case.swe_rgb):
        assert rgb.shape == (96, 96, 3) and rgb.dtype == np.uint8
        np.testing.assert_array_equal(rgb[~inside], np.repeat(case.bmode[~inside][:, None], 3, axis=1))
    kpa, dist = swe_colormap().invert(case.swe_rgb)
    assert np.nanmax(dist[inside]) < 1.0
    assert np.abs(kpa[inside] - np.clip(case.stiffness_kpa[inside], 0, 180)).max() <= 0.5 * 180 / 255 + 1e-3
    # SE: the lesion (stiff) is blue/hard, i.e. lower normalised strain than the box median (0.5).
    assert np.nanmean(case.strain_normalised[case.mask]) < 0.3


def test_teaching_params_set_the_requested_anatomy():
    p = teaching_params("fibroadenoma", size_mm=12, depth_mm=20, stiffness_ratio=3.0, shape="lobulated", seed=1)
    assert (p.size_mm, p.depth_mm, p.shape) == (12, 20, "lobulated")
    assert p.lesion_kpa == pytest.approx(3.0 * p.gland_kpa)
    with pytest.raises(ValueError, match="shape"):
        teaching_params("cyst", shape="star")
    with pytest.raises(ValueError, match="lesion_type"):
        teaching_params("lymphoma")


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"shadow_db_low": 25.0, "shadow_db_high": 20.0}, "shadow_db_low"),
        ({"shadow_db_low": -1.0}, "shadow_db_low"),
        ({"shadow_width_low_mm": 12.0, "shadow_width_high_mm": 10.0}, "shadow_width_low_mm"),
    ],
)
def test_phantom_params_refuse_an_inverted_shadow_range(fields, named):
    with pytest.raises(ValueError, match=named):
        PhantomParams(**fields)
    PhantomParams(shadow_db_low=20.0, shadow_db_high=20.0)  # an empty range (one value) is allowed


def test_cases_are_deterministic_in_their_seed():
    a, b, c = random_case(11, size=64), random_case(11, size=64), random_case(12, size=64)
    np.testing.assert_array_equal(a.bmode, b.bmode)
    np.testing.assert_array_equal(a.strain_rgb, b.strain_rgb)
    assert a.meta() == b.meta()
    assert not np.array_equal(a.bmode, c.bmode)


def test_small_in_frame_shows_the_lesion_small_in_a_whole_field_and_keeps_the_rest():
    from usegan.phantom.case import SMALL_LESION_SPAN, case_seed, random_case_of_type, sample_params
    from usegan.phantom.scanner import sample_fov, sample_scanner

    seed = case_seed(4000, 3)
    plain = random_case_of_type(seed, "malignant", 128)
    # share 0 is phantom-3's recipe, draw for draw (what make model's earlier stages simulate)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA5E]))
    scanner_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5CA7]))
    params = sample_params(rng, "malignant", fov_mm=sample_fov(scanner_rng, "training"))
    bmode_config, display = sample_scanner(scanner_rng, params.depth_mm, params.fov_mm, "training")
    full_field = bool(scanner_rng.random() < 0.4)
    recipe = make_case(params, seed, 128, bmode_config=bmode_config, display=display, full_field=full_field)
    np.testing.assert_array_equal(plain.bmode, recipe.bmode)
    np.testing.assert_array_equal(plain.strain_rgb, recipe.strain_rgb)
    assert plain.meta() == recipe.meta()
    small = random_case_of_type(seed, "malignant", 128, small_in_frame=1.0)
    assert small.extra == {"small_in_frame": True} and "small_in_frame" not in plain.extra
    assert small.box[0] == 0 and small.box[2] == 128  # a full-field box: the whole width
    lo, hi = SMALL_LESION_SPAN
    assert lo * small.params.fov_mm <= small.params.size_mm <= hi * small.params.fov_mm
    assert small.mask.any() and np.ptp(np.nonzero(small.mask)[1]) + 1 < 0.3 * 128
    # type, echo and stiffness stay: a small carcinoma is still stiff (what keeps size from meaning stiffness)
    assert (small.params.lesion_type, small.params.lesion_echo, small.params.lesion_kpa) == (
        plain.params.lesion_type, plain.params.lesion_echo, plain.params.lesion_kpa,
    )  # fmt: skip
    assert small.labels["tsukuba"] >= 3
    assert "small_in_frame" not in random_case_of_type(seed, "none", 64, small_in_frame=1.0).extra
    with pytest.raises(ValueError, match="small_in_frame"):
        random_case_of_type(seed, "cyst", 64, small_in_frame=1.5)


def test_shallow_raises_the_lesion_under_a_thin_fat_layer_and_keeps_the_rest():
    from usegan.phantom.case import SHALLOW_FAT_MM, case_seed, random_case_of_type

    seed = case_seed(4000, 3)
    plain = random_case_of_type(seed, "malignant", 128)
    assert random_case_of_type(seed, "malignant", 128, shallow=0.0).meta() == plain.meta()  # share 0: phantom-3
    raised = random_case_of_type(seed, "malignant", 128, shallow=1.0)
    assert raised.extra.get("shallow") is True and "shallow" not in plain.extra
    p, q = raised.params, plain.params
    assert SHALLOW_FAT_MM[0] * p.fov_mm / 40 <= p.fat_mm <= SHALLOW_FAT_MM[1] * p.fov_mm / 40
    assert p.depth_mm < q.depth_mm
    # the lesion's top row sits within the top third of the image (phantom-3 keeps it below about a third)
    rows = np.nonzero(raised.mask.any(axis=1))[0]
    assert rows[0] < 128 / 3 < np.nonzero(plain.mask.any(axis=1))[0][0]
    # type, size, echo and stiffness stay, so depth says nothing about stiffness; a raised carcinoma is still hard
    keep = ("lesion_type", "size_mm", "aspect", "lesion_echo", "lesion_kpa", "skin_mm", "fov_mm")
    assert [getattr(p, k) for k in keep] == [getattr(q, k) for k in keep]
    assert raised.labels["tsukuba"] >= 3 and raised.labels["strain_ratio"] > 2
    both = random_case_of_type(seed, "malignant", 128, small_in_frame=1.0, shallow=1.0)
    assert both.extra == {"small_in_frame": True, "shallow": True} and both.params.fat_mm == p.fat_mm
    assert "shallow" not in random_case_of_type(seed, "none", 64, shallow=1.0).extra
    with pytest.raises(ValueError, match="shallow"):
        random_case_of_type(seed, "cyst", 64, shallow=-0.1)


def _restyled(seed: int, lesion_type: str, share: str, look: dict):
    """The case of ``seed`` drawn plain and with the appearance option ``share`` (a keyword of random_case_of_type)
    at 1; checks what every such option promises: share 0 is phantom-3 exactly, the case is marked, the drawn
    parameters lie in ``look``'s ranges, and only the appearance changes (stiffness, strain, lesion, labels stay)."""
    from usegan.phantom.case import random_case_of_type

    plain = random_case_of_type(seed, lesion_type, 128)
    assert random_case_of_type(seed, lesion_type, 128, **{share: 0.0}).meta() == plain.meta()  # share 0: phantom-3
    styled = random_case_of_type(seed, lesion_type, 128, **{share: 1.0})
    assert styled.extra == {share: True} and share not in plain.extra
    for name, (lo, hi) in look.items():
        assert lo <= getattr(styled.params, name) <= hi, name
    np.testing.assert_array_equal(styled.stiffness_kpa, plain.stiffness_kpa)
    np.testing.assert_array_equal(styled.strain, plain.strain)
    np.testing.assert_array_equal(styled.mask, plain.mask)
    assert styled.labels == plain.labels and styled.box == plain.box
    with pytest.raises(ValueError, match=share):
        random_case_of_type(seed, "cyst", 64, **{share: 1.5})
    return plain, styled


def test_superficial_brightens_the_skin_and_fat_and_changes_nothing_else():
    from usegan.phantom.case import SUPERFICIAL_LOOK, case_seed, random_case_of_type

    seed = case_seed(4000, 5)
    plain, bright = _restyled(seed, "malignant", "superficial", SUPERFICIAL_LOOK)
    # the skin and fat rows come out brighter on the B-mode; the rows below the fat barely change
    mm = plain.params.fov_mm / 128
    fat_rows = slice(0, int((plain.params.skin_mm + 0.5 * plain.params.fat_mm) / mm))
    deep_rows = slice(int(0.6 * 128), 128)
    assert bright.bmode[fat_rows].mean() > plain.bmode[fat_rows].mean() + 10
    assert abs(float(bright.bmode[deep_rows].mean()) - float(plain.bmode[deep_rows].mean())) < 5
    assert "superficial" in random_case_of_type(seed, "none", 64, superficial=1.0).extra  # lesion-free views too


def test_dark_shadows_darken_the_bmode_and_change_nothing_else():
    from usegan.phantom.case import DARK_SHADOW_LOOK, case_seed

    plain, dark = _restyled(case_seed(4000, 7), "fibroadenoma", "dark_shadows", DARK_SHADOW_LOOK)
    assert dark.params.broad_shadows in (1, 2)
    # some columns below the shadows' origin are far darker than the plain scan's
    lower = slice(int(0.6 * 128), 128)
    plain_cols = plain.bmode[lower].astype(float).mean(axis=0)
    dark_cols = dark.bmode[lower].astype(float).mean(axis=0)
    assert (plain_cols - dark_cols).max() > 20


@pytest.mark.parametrize("lesion_type", ["malignant", "malignant_halo", "fibroadenoma", "cyst"])
def test_a_raised_lesion_stays_inside_its_view_and_never_goes_deeper(lesion_type):
    from usegan.phantom.case import raise_lesion, sample_params

    rng = np.random.default_rng(12)
    for fov in (25.0, 33.8, 40.0, 60.0):  # small views hold big lesions only at the middle depth
        for _ in range(100):
            p = sample_params(rng, lesion_type, fov_mm=fov)
            q = raise_lesion(p, rng)
            assert p.skin_mm < q.depth_mm <= p.depth_mm < fov, (lesion_type, fov, p)


def test_speckle_config_validation_names_the_value():
    with pytest.raises(ValueError, match="dynamic_range_db"):
        BModeConfig(dynamic_range_db=0)
    with pytest.raises(ValueError, match="bottom"):
        MechanicsConfig(bottom="glued")


# --- CLI -----------------------------------------------------------------------------------------------------


def _run(tmp_path, name, *extra):
    out = tmp_path / name
    code = main(["phantom", "-n", "6", "--out", str(out), "--size", "64", "--seed", "7", "--quiet", *extra])
    assert code == 0
    return out


def test_cli_writes_case_folders_and_index(tmp_path):
    out = _run(tmp_path, "one", "--workers", "1")
    with (out / "index.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["lesion_type"] for r in rows] == list(LESION_TYPES)  # cycled in order
    for row in rows:
        folder = out / row["name"]
        for f in ("bmode.png", "strain.png", "swe.png", "mask.png", "stiffness_kpa.npy", "meta.json"):
            assert (folder / f).is_file(), f
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["modes"]["swe"]["vmax"] == 180.0 and meta["modes"]["strain"]["scale"]["kind"] == "log"
        assert set(meta["box"]) == {"x", "y", "w", "h"}
        case = read_case(folder)
        assert case["bmode"].shape == (64, 64) and case["strain_rgb"].shape == (64, 64, 3)
        assert str(meta["labels"]["tsukuba"] or "") == row["tsukuba"]


def test_cli_output_does_not_depend_on_worker_count(tmp_path):
    one = _run(tmp_path, "w1", "--workers", "1")
    two = _run(tmp_path, "w2", "--workers", "2")
    assert (one / "index.csv").read_text() == (two / "index.csv").read_text()
    for name in ("case_00003", "case_00005"):
        assert (one / name / "strain.png").read_bytes() == (two / name / "strain.png").read_bytes()


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    assert main(["phantom", "-n", "2", "--out", str(tmp_path / "x"), "--types", "cyst", "tumour"]) == 2
    assert "tumour" in capsys.readouterr().err
    assert main(["phantom", "-n", "0", "--out", str(tmp_path / "x")]) == 2
    assert main(["phantom", "-n", "2", "--out", str(tmp_path / "x"), "--small-in-frame", "2"]) == 2
    assert "--small-in-frame" in capsys.readouterr().err
    assert main(["phantom", "-n", "2", "--out", str(tmp_path / "x"), "--shallow", "-0.5"]) == 2
    assert "--shallow" in capsys.readouterr().err
    assert main(["phantom", "-n", "2", "--out", str(tmp_path / "x"), "--superficial", "1.5"]) == 2
    assert "--superficial" in capsys.readouterr().err
    assert main(["phantom", "-n", "2", "--out", str(tmp_path / "x"), "--dark-shadows", "-1"]) == 2
    assert "--dark-shadows" in capsys.readouterr().err


def test_cli_shallow_raises_the_lesion_cases_it_draws(tmp_path):
    out = _run(tmp_path, "shallow", "--workers", "1", "--shallow", "1")
    plain = _run(tmp_path, "plain", "--workers", "1")
    for name in ("case_00000", "case_00005"):  # a carcinoma and the lesion-free view
        meta, before = (json.loads((folder / name / "meta.json").read_text()) for folder in (out, plain))
        lesion = meta["params"]["lesion_type"] != "none"
        assert meta["extra"].get("shallow") is (True if lesion else None)
        if lesion:
            assert meta["params"]["depth_mm"] <= before["params"]["depth_mm"]
            assert meta["params"]["fat_mm"] <= 3.0 * meta["params"]["fov_mm"] / 40 < before["params"]["fat_mm"]
        else:
            assert meta["params"] == before["params"]


@pytest.mark.parametrize("flag,extra", [("--superficial", "superficial"), ("--dark-shadows", "dark_shadows")])
def test_cli_appearance_options_reach_every_case(tmp_path, flag, extra):
    out = _run(tmp_path, extra, "--workers", "1", flag, "1")
    plain = _run(tmp_path, "plain", "--workers", "1")
    for name in ("case_00000", "case_00005"):  # a carcinoma and the lesion-free view
        meta, before = (json.loads((folder / name / "meta.json").read_text()) for folder in (out, plain))
        assert meta["extra"].get(extra) is True and extra not in before.get("extra", {})
        assert meta["params"]["lesion_type"] == before["params"]["lesion_type"]
        assert meta["params"]["depth_mm"] == before["params"]["depth_mm"]  # appearance only


def test_cli_share_options_are_the_library_keywords():
    import inspect

    from usegan.commands.phantom import SHARES
    from usegan.phantom.case import RESTYLES, random_case_of_type

    keywords = inspect.signature(random_case_of_type).parameters
    assert all(name in keywords for name in SHARES) and set(RESTYLES) <= set(SHARES)


def test_cli_lesion_types_match_the_library():
    from usegan.commands import phantom as command

    assert command.LESION_TYPES == LESION_TYPES
