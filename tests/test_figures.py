"""usegan.ui.figures: the colour distribution in the ROI and the box (strain classes, SWE kPa histogram)."""

from __future__ import annotations

import numpy as np
import pytest

from usegan.colormaps import colormap_for
from usegan.ui import figures


def test_strain_distribution_counts_hard_intermediate_soft_in_the_roi_and_the_box():
    cmap = colormap_for("strain")
    strain = np.full((10, 10), 0.9)
    strain[:, :5] = 0.1  # left half hard
    rgb = cmap.apply(strain)
    roi = np.zeros((10, 10), bool)
    roi[:, :5] = True
    dist = figures.distribution(rgb, "strain", None, roi)
    assert dist.classes == ("hard", "intermediate", "soft")
    assert dist.roi == pytest.approx((1.0, 0.0, 0.0)) and dist.box == pytest.approx((0.5, 0.0, 0.5))
    fig = figures.distribution_figure(dist)
    assert len(fig.data) == 2 and fig.data[0].y[0] == pytest.approx(100)
    assert len(figures.distribution_figure(figures.distribution(rgb, "strain")).data) == 1


def test_swe_distribution_is_a_kpa_histogram():
    rgb = colormap_for("swe").apply(np.full((6, 6), 95.0))
    dist = figures.distribution(rgb, "swe", {"vmin": 0, "vmax": 180})
    assert dist.unit == "kPa" and dist.box[dist.classes.index("90-100")] == pytest.approx(1.0)
    assert "kPa" in figures.colour_bar_figure("swe").layout.title.text
