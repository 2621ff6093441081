"""Colour maps: LUT shape, apply/invert round trip (hypothesis), unknown colours, input validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usegan.colormaps import (
    COLOUR_CHROMA,
    LUT_SIZE,
    Colormap,
    chroma,
    colormap_for,
    coloured_mask,
    rgb_to_lab,
    strain_colormap,
    swe_colormap,
)


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


def test_from_scale_reads_a_stored_colour_scale_and_to_scale_writes_it():
    swe = Colormap.from_scale("swe", {"vmin": 10, "vmax": 90, "unit": "kPa"})
    assert (swe.mode, swe.vmin, swe.vmax, swe.unit) == ("swe", 10.0, 90.0, "kPa")
    assert Colormap.from_scale("swe", swe.to_scale()) == swe  # round trip through what a generation stores
    assert Colormap.from_scale("swe", None) == colormap_for("swe") == Colormap.from_scale("swe", {"vmax": 180.0})
    assert Colormap.from_scale("strain", {"vmin": 5, "vmax": 9}) == strain_colormap()  # strain is always 0..1
    with pytest.raises(ValueError, match="mode must be 'strain' or 'swe'"):
        Colormap.from_scale("doppler", {})


def test_every_colour_of_the_map_is_coloured_and_gray_is_not():
    lut = strain_colormap().lut
    assert coloured_mask(lut[None]).all() and int(chroma(lut[None]).min()) > 3 * COLOUR_CHROMA  # a wide margin
    gray = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    assert not coloured_mask(gray).any()
    tinted = gray.copy()
    tinted[..., 2] = np.clip(tinted[..., 2].astype(int) + COLOUR_CHROMA, 0, 255)  # a tint up to the threshold
    assert not coloured_mask(tinted).any()
    tinted[..., 2] = np.clip(gray[..., 2].astype(int) + COLOUR_CHROMA + 1, 0, 255)
    assert coloured_mask(tinted[:, :200]).all()  # one step more is colour (where the channel did not clip)
    assert coloured_mask(np.zeros((4, 5), np.uint8)).shape == (4, 5) and not coloured_mask(np.zeros((4, 5))).any()
    rgba = np.concatenate([lut[None], np.full((1, LUT_SIZE, 1), 7, np.uint8)], axis=2)
    assert coloured_mask(rgba).all()  # alpha is not a colour channel


def test_one_coloured_pixel_rule_for_training_boxes_overlay_and_figures():
    from usegan import datasets
    from usegan.ui import overlay

    assert datasets.COLOUR_CHROMA is COLOUR_CHROMA  # the training data's colour box uses the same threshold
    image = np.zeros((20, 30, 3), np.uint8)
    image[5:12, 8:20] = strain_colormap().apply(np.full((7, 12), 0.5))
    image[0, 0] = (60, 60, 60 + COLOUR_CHROMA)  # gray B-mode with a tint at the threshold: not colour
    assert datasets.colour_box(image) == (8, 5, 12, 7)
    assert np.array_equal(np.argwhere(coloured_mask(image)).min(0), [5, 8])
    blended = overlay.overlay(np.full((20, 30), 100, np.uint8), image, 1.0)
    assert np.array_equal(blended[5:12, 8:20], image[5:12, 8:20]) and (blended[0, 0] == 100).all()
