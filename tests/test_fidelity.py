"""False-hard regions: a compact hard mass counts, a thin hard layer, a deep chest-wall band or a speck does not; a
region carries its pixels, and an ROI over it is cautioned where the model's uncertainty says it is unsure."""

from __future__ import annotations

import numpy as np
import pytest

from usegan.colormaps import colormap_for
from usegan.training.fidelity import cautioned, false_hard_regions


def _disk(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def test_a_compact_hard_mass_is_found_in_both_modes():
    strain = np.full((128, 128), 0.6, np.float32)
    strain[_disk(strain.shape, (50, 64), 12)] = 0.05
    regions = false_hard_regions(strain, "strain", mm_per_px=0.2)
    assert len(regions) == 1 and regions[0].diameter_mm == pytest.approx(24 * 0.2, rel=0.1)
    kpa = np.where(strain < 0.2, 150.0, 20.0).astype(np.float32)
    assert len(false_hard_regions(kpa, "swe", mm_per_px=0.2)) == 1


def test_layers_specks_and_the_chest_wall_are_not_masses():
    strain = np.full((128, 128), 0.6, np.float32)
    strain[40:44, :] = 0.05  # a thin hard layer
    strain[_disk(strain.shape, (80, 30), 3)] = 0.05  # a speck smaller than 3 mm at 0.2 mm/px
    strain[120:, :] = 0.05  # the chest wall at the bottom
    assert false_hard_regions(strain, "strain", mm_per_px=0.2) == []
    with pytest.raises(ValueError, match="mm_per_px"):
        false_hard_regions(strain, "strain", mm_per_px=0)


def test_a_region_carries_its_pixels_and_is_cautioned_only_where_the_model_is_unsure():
    kpa = np.full((128, 128), 20.0, np.float32)
    disk = _disk(kpa.shape, (50, 64), 12)
    kpa[disk] = 150.0
    [region] = false_hard_regions(kpa, "swe", mm_per_px=0.2)
    assert region.mask.sum() == region.area_px and not (region.mask & ~disk).any()
    cmap = colormap_for("swe")
    rgb = cmap.apply(kpa)
    sure = np.full(kpa.shape, 2.0, np.float32)  # SD 2 kPa on a 0-180 kPa scale
    assert cautioned(rgb, cmap, sure, region.mask) is False
    unsure = np.where(region.mask, 60.0, 2.0).astype(np.float32)  # above SWE's 25 % of 180 kPa (45): unsure
    assert cautioned(rgb, cmap, unsure, region.mask) is True
    assert cautioned(rgb, cmap, np.where(disk, 2.0, 60.0).astype(np.float32), region.mask) is False  # unsure elsewhere
    grey = rgb.copy()
    grey[region.mask] = 128  # no colour under the ROI: nothing to caution
    assert cautioned(grey, cmap, unsure, region.mask) is None
