"""False-hard regions: a compact hard mass counts, a thin hard layer, a deep chest-wall band or a speck does not."""

from __future__ import annotations

import numpy as np
import pytest

from usegan.training.fidelity import false_hard_regions


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
