"""usegan.services.compare: SSIM between a virtual and a real elastogram."""

from __future__ import annotations

import numpy as np
import pytest

from usegan.colormaps import colormap_for
from usegan.services import compare


def test_ssim_is_one_for_identical_images_and_lower_for_different_ones():
    cmap = colormap_for("strain")
    a = cmap.apply(np.tile(np.linspace(0, 1, 32), (32, 1)))
    b = cmap.apply(np.tile(np.linspace(1, 0, 32), (32, 1)))
    assert compare.ssim(a, a) == pytest.approx(1.0)
    assert compare.ssim(a, b) < 0.9
