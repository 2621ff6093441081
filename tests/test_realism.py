"""Realism statistics: the classifier cannot tell a set from itself and separates clearly different sets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from usegan.phantom.realism import FEATURES, compare, feature_table, image_features


def _speckle(rng: np.random.Generator, smooth: float, level: float) -> np.ndarray:
    field = np.abs(rng.standard_normal((128, 128)) + 1j * rng.standard_normal((128, 128)))
    return np.clip(ndimage.gaussian_filter(field, (smooth, 3 * smooth)) * level, 0, 255)


def test_features_have_the_documented_length_and_see_depth_fall_off():
    rng = np.random.default_rng(0)
    image = _speckle(rng, 1.0, 90.0) * np.linspace(1.5, 0.3, 128)[:, None]
    values = dict(zip(FEATURES, image_features(image), strict=True))
    assert len(image_features(image)) == len(FEATURES)
    assert values["top_mean"] > values["bottom_mean"]
    assert values["acf_lateral_px"] > values["acf_axial_px"]  # laterally stretched texture


def test_same_distribution_is_indistinguishable_and_different_is_separated():
    rng = np.random.default_rng(1)
    a = feature_table([_speckle(rng, 1.0, 90.0) for _ in range(20)])
    b = feature_table([_speckle(rng, 1.0, 90.0) for _ in range(20)])
    c = feature_table([_speckle(rng, 2.5, 50.0) for _ in range(20)])
    assert compare(a, b).auc < 0.8
    different = compare(a, c)
    assert different.auc > 0.95 and different.mean_abs_smd > compare(a, b).mean_abs_smd
    with pytest.raises(ValueError, match="at least 5"):
        compare(a[:3], b)


def test_depth_bands_find_where_the_sets_differ():
    from usegan.phantom.realism import compare_bands

    rng = np.random.default_rng(2)

    def scan(top_level: float) -> np.ndarray:  # same texture below the top third; the top third's level varies
        image = _speckle(rng, 1.0, 90.0)
        image[:42] = _speckle(rng, 1.0, top_level)[:42]
        return image

    real = [scan(90.0) for _ in range(20)]
    phantom = [scan(35.0) for _ in range(20)]  # a darker, flatter top third only
    bands = compare_bands(phantom, real)
    assert set(bands) == {"top_third", "lower_two_thirds"}
    assert bands["top_third"].auc > 0.95 and bands["lower_two_thirds"].auc < 0.8
    assert bands["top_third"].mean_abs_smd > 2 * bands["lower_two_thirds"].mean_abs_smd
    with pytest.raises(ValueError, match="band 'x'"):
        compare_bands(phantom, real, {"x": (0.5, 0.2)})
