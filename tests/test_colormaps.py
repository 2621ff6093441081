"""Colour maps: LUT shape, apply/invert round trip (hypothesis), unknown colours, input validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usegan.colormaps import LUT_SIZE, colormap_for, rgb_to_lab, strain_colormap, swe_colormap


def test_lut_is_distinct_and_runs_blue_to_red():
    lut = strain_colormap().lut
    assert lut.shape == (LUT_SIZE, 3) and lut.dtype == np.uint8
    assert len({tuple(c) for c in lut}) == LUT_SIZE  # injective, so inversion is exact on pure map colours
    assert lut[0, 2] > 100 and lut[0, 0] == 0  # blue end
    assert lut[-1, 0] > 100 and lut[-1, 2] == 0  # red end


def test_strain_and_swe_meanings_are_opposite():
    strain, swe = strain_colormap(), swe_colormap()
    # Same colour, opposite meaning: red is soft strain (1.0) but stiff SWE (180 kPa).
    assert np.array_equal(strain.apply(np.array([1.0])), swe.apply(np.array([180.0])))
    assert (strain.high_label, swe.high_label) == ("soft", "stiff")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_strain_round_trip_within_resolution(values):
    cmap = strain_colormap()
    x = np.array(values)
    recovered, distance = cmap.invert(cmap.apply(x))
    assert np.all(np.abs(recovered - x) <= cmap.resolution / 2 + 1e-5)
    assert np.all(distance < 1e-3)


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0.0, 50.0),
    st.floats(10.0, 300.0),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30),
)
def test_swe_round_trip_within_resolution_on_any_scale(vmin, span, fractions):
    cmap = swe_colormap(vmin, vmin + span)
    kpa = vmin + span * np.array(fractions)
    recovered, _ = cmap.invert(cmap.apply(kpa))
    assert np.all(np.abs(recovered - kpa) <= cmap.resolution / 2 + 1e-4 * span)


def test_gray_black_white_are_unknown():
    cmap = strain_colormap()
    gray = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    scalar, distance = cmap.invert(gray)
    assert np.isnan(scalar).all()
    assert (distance > 12).all()


def test_nan_applies_as_black_and_reads_back_unknown():
    cmap = strain_colormap()
    rgb = cmap.apply(np.array([0.2, np.nan]))
    assert rgb[1].tolist() == [0, 0, 0]
    scalar, _ = cmap.invert(rgb)
    assert not np.isnan(scalar[0]) and np.isnan(scalar[1])


def test_slightly_off_colours_still_read_close():
    cmap = strain_colormap()
    x = np.linspace(0, 1, 200)
    rgb = cmap.apply(x).astype(np.int16)
    noisy = np.clip(rgb + np.random.default_rng(0).integers(-3, 4, rgb.shape), 0, 255).astype(np.uint8)
    recovered, _ = cmap.invert(noisy)
    assert not np.isnan(recovered).any()
    assert np.abs(recovered - x).max() < 0.06


def test_cached_lookup_matches_brute_force_nearest_lab():
    cmap = swe_colormap()
    colours = np.random.default_rng(1).integers(0, 256, (500, 3), dtype=np.uint8)
    first, first_d = cmap.invert(colours)
    second, second_d = cmap.invert(colours)  # served from the lazily filled table
    d = np.linalg.norm(rgb_to_lab(colours)[:, None, :] - cmap.lut_lab[None, :, :], axis=-1)
    expected_index = d.argmin(axis=1)
    expected_d = d.min(axis=1)
    expected = np.where(expected_d <= 12.0, cmap.vmin + expected_index * cmap.resolution, np.nan)
    np.testing.assert_allclose(first_d, expected_d, atol=0.1)  # float16 table
    np.testing.assert_allclose(first, expected, atol=1e-3)
    np.testing.assert_array_equal(np.isnan(first), np.isnan(second))
    np.testing.assert_array_equal(first_d, second_d)


def test_invert_keeps_shape_and_accepts_rgba():
    cmap = strain_colormap()
    rgb = cmap.apply(np.full((4, 5), 0.5))
    rgba = np.concatenate([rgb, np.full((4, 5, 1), 255, np.uint8)], axis=-1)
    scalar, distance = cmap.invert(rgba)
    assert scalar.shape == distance.shape == (4, 5) and scalar.dtype == np.float32
    assert np.allclose(scalar, 0.5, atol=cmap.resolution)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4, 4, 3), np.float32),
        np.full((2, 3), 300),
    ],
)
def test_invert_rejects_non_rgb(bad):
    with pytest.raises(ValueError):
        strain_colormap().invert(bad)


def test_colormap_for_and_ranges():
    assert colormap_for("strain").mode == "strain"
    swe = colormap_for("swe", 0, 100)
    assert (swe.vmin, swe.vmax, swe.resolution) == (0.0, 100.0, pytest.approx(100 / 255))
    with pytest.raises(ValueError, match="'elasto'"):
        colormap_for("elasto")
    with pytest.raises(ValueError, match="increase"):
        swe_colormap(50, 50)
