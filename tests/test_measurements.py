"""Console measurements: mm geometry, strain-ratio series, SWE Q-box in kPa and m/s, E/B ratio, quality map."""

from __future__ import annotations

import math

import numpy as np
import pytest

from usegan.colormaps import strain_colormap, swe_colormap
from usegan.scoring.confidence import (
    CAUTION_TEXT,
    FRAMING_TEXT,
    NO_CAUTION_TEXT,
    SMALL_IN_FRAME,
    framing,
    quality_map,
    roi_confidence,
)
from usegan.scoring.geometry import PixelSpacing, calibrate, circle_mm, distance_mm, region_axes
from usegan.scoring.measurements import (
    MeasurementSeries,
    eb_ratio,
    lesion_size,
    measure_qbox,
    measure_strain_ratio,
    qbox_circle,
)
from usegan.scoring.roi import Ellipse, Rect, RoiError, lesion_mask, roi_from_dict, roi_to_mask

MM = PixelSpacing(0.1, 0.1, "test")  # 10 px per mm


def test_spacing_of_accepts_number_pair_and_none_and_refuses_nonsense():
    assert PixelSpacing.of(None) is None
    assert PixelSpacing.of(0.2) == PixelSpacing(0.2, 0.2)
    assert PixelSpacing.of((0.1, 0.3)).col_mm == 0.3
    with pytest.raises(ValueError, match="row_mm"):
        PixelSpacing(0.0, 0.1)
    assert PixelSpacing(0.1, 0.1, "x").scaled(0.5).row_mm == pytest.approx(0.2)


def test_distance_in_mm_uses_each_axis_spacing():
    assert distance_mm((0, 0), (30, 40), MM) == pytest.approx(5.0)
    assert distance_mm((0, 0), (10, 10), PixelSpacing(0.2, 0.1)) == pytest.approx(math.hypot(1.0, 2.0))


def test_calibration_from_a_known_length():
    spacing = calibrate((10, 10), (10, 110), known_mm=20.0)
    assert spacing.row_mm == pytest.approx(0.2)
    assert "20 mm" in spacing.source
    with pytest.raises(ValueError, match="at least 2 pixels"):
        calibrate((0, 0), (1, 0), 5.0)


def test_circle_of_five_mm_has_the_area_of_a_five_mm_disc():
    circle = circle_mm((100, 100), 5.0, MM)
    assert circle.rx == circle.ry == pytest.approx(25.0)
    area_mm2 = roi_to_mask(circle, (200, 200)).sum() * 0.01
    assert area_mm2 == pytest.approx(math.pi * 2.5**2, rel=0.03)
    # non-square pixels: the circle stays round in mm
    ellipse = circle_mm((50, 50), 4.0, PixelSpacing(0.2, 0.1))
    assert (ellipse.rx, ellipse.ry) == pytest.approx((20.0, 10.0))


def test_ellipse_roi_round_trips_and_refuses_outside():
    e = Ellipse(10.0, 12.0, 4.0, 3.0)
    assert roi_from_dict(e.to_dict()) == e
    with pytest.raises(RoiError, match="outside"):
        roi_to_mask(Ellipse(500, 500, 3, 3), (64, 64))


def test_region_axes_of_an_inscribed_ellipse_are_the_rectangle_sides_in_mm():
    mask, _ = lesion_mask(Rect(20, 30, 80, 40), (128, 128))
    axes = region_axes(mask, MM)
    assert axes.long_mm == pytest.approx(8.0, abs=0.15)
    assert axes.short_mm == pytest.approx(4.0, abs=0.15)
    assert axes.angle_deg == pytest.approx(0.0, abs=1.0) or axes.angle_deg == pytest.approx(180.0, abs=1.0)
    assert "mm" in axes.describe()
    assert "unknown" in region_axes(mask).describe()
    tall = lesion_size(Rect(20, 10, 30, 90), (128, 128), MM)
    assert tall.long_mm == pytest.approx(9.0, abs=0.15) and tall.angle_deg == pytest.approx(90.0, abs=1.0)


def strain_phantom(lesion_strain: float = 0.1, fat_strain: float = 0.6) -> np.ndarray:
    strain = np.full((120, 160), 0.5, np.float32)
    strain[40:80, 60:100] = lesion_strain  # the lesion: rows 40..79
    strain[:, :40] = fat_strain  # fat column on the left, every depth
    return strain


def test_strain_ratio_measurement_gives_both_means_the_ratio_and_the_depth_check():
    m = measure_strain_ratio(strain_phantom(), Rect(62, 42, 36, 36), circle_mm((20, 60), 2.0, MM), MM)
    assert m.lesion_mean_strain == pytest.approx(0.1, abs=0.01)
    assert m.reference_mean_strain == pytest.approx(0.6, abs=0.01)
    assert m.ratio == pytest.approx(6.0, rel=0.02)
    assert m.same_depth and abs(m.depth_offset_mm) < 0.1
    deep = measure_strain_ratio(strain_phantom(), Rect(62, 42, 36, 36), circle_mm((20, 110), 1.0, MM), MM)
    assert not deep.same_depth and deep.depth_offset_mm == pytest.approx(5.0, abs=0.1)


def test_strain_ratio_refuses_an_overlapping_reference_and_reports_a_blue_lesion():
    with pytest.raises(RoiError, match="overlaps"):
        measure_strain_ratio(strain_phantom(), Rect(62, 42, 36, 36), circle_mm((80, 60), 1.0, MM), MM)
    blue = measure_strain_ratio(strain_phantom(lesion_strain=0.0), Rect(62, 42, 36, 36), circle_mm((20, 60), 2, MM))
    assert blue.ratio is None and "unbounded" in blue.reason and blue.depth_offset_mm is None


def test_the_measurement_uses_the_scored_region_not_the_rectangle_corners():
    strain = strain_phantom()
    yy, xx = np.mgrid[:120, :160]
    corners = ((xx + 0.5 - 80) / 20) ** 2 + ((yy + 0.5 - 60) / 20) ** 2 > 1  # pixel centres, as lesion_mask
    strain[40:80, 60:100][corners[40:80, 60:100]] = 0.9  # soft corners outside the inscribed ellipse
    m = measure_strain_ratio(strain, Rect(60, 40, 40, 40), circle_mm((20, 60), 2.0, MM))
    assert m.lesion_mean_strain == pytest.approx(0.1, abs=0.02)


def test_series_of_three_gives_mean_and_sample_sd_and_refuses_beyond_n():
    series = MeasurementSeries(max_n=3)
    for fat in (0.5, 0.6, 0.7):
        series = series.add(
            measure_strain_ratio(strain_phantom(fat_strain=fat), Rect(62, 42, 36, 36), circle_mm((20, 60), 2, MM))
        )
    assert series.ratios == pytest.approx([5.0, 6.0, 7.0], rel=0.02)
    assert series.mean == pytest.approx(6.0, rel=0.02)
    assert series.sd == pytest.approx(1.0, rel=0.05)
    assert series.full
    with pytest.raises(ValueError, match="already holds 3"):
        series.add(series.items[0])
    assert MeasurementSeries().sd is None and MeasurementSeries().mean is None


def test_series_refuses_a_measurement_without_ratio():
    blue = measure_strain_ratio(strain_phantom(lesion_strain=0.0), Rect(62, 42, 36, 36), circle_mm((20, 60), 2, MM))
    with pytest.raises(ValueError, match="without a ratio"):
        MeasurementSeries().add(blue)


def test_qbox_of_five_mm_reports_kpa_ms_emax_location_and_ratio():
    kpa = np.full((200, 200), 20.0, np.float32)
    kpa[:, :50] = 10.0  # fat
    kpa[100, 120] = 150.0  # Emax inside the Q-box
    kpa[95, 118] = 60.0
    q = measure_qbox(kpa, qbox_circle((120, 100), 5.0, MM), circle_mm((25, 100), 3.0, MM), 5.0, (0.0, 180.0))
    assert q.diameter_mm == 5.0 and q.pixels > 1900
    assert q.emax_kpa == pytest.approx(150.0) and q.emax_at == (120, 100)
    assert q.emin_kpa == pytest.approx(20.0)
    assert q.max_ms == pytest.approx(math.sqrt(150e3 / 3000), rel=1e-4)  # E = 3 rho c^2
    assert q.min_ms == pytest.approx(math.sqrt(20e3 / 3000), rel=1e-4)
    assert q.mean_ms == pytest.approx(
        np.sqrt(kpa[roi_to_mask(circle_mm((120, 100), 5, MM), kpa.shape)] * 1000 / 3000).mean(), rel=1e-4
    )
    assert q.ratio == pytest.approx(q.emean_kpa / 10.0)
    assert q.sd_kpa > 0 and not q.at_scale_max and not q.at_scale_min


def test_qbox_flags_a_saturated_scale_and_needs_a_spacing():
    kpa = np.full((100, 100), 180.0, np.float32)
    q = measure_qbox(kpa, Ellipse(50, 50, 10, 10), scale_kpa=(0.0, 180.0))
    assert q.at_scale_max and q.ratio is None
    with pytest.raises(ValueError, match="calibrate"):
        qbox_circle((50, 50), 5.0, None)


def test_qbox_off_the_colour_map_has_no_figures():
    kpa = np.full((100, 100), np.nan, np.float32)
    q = measure_qbox(kpa, Ellipse(50, 50, 10, 10))
    assert q.emean_kpa is None and "not on the colour map" in q.reason


def test_eb_ratio_larger_stiff_area_reads_above_one_and_smaller_below():
    lesion = np.zeros((100, 100), bool)
    lesion[40:60, 40:60] = True
    wide = np.zeros_like(lesion)
    wide[35:65, 30:70] = True  # 40 px stiff vs 20 px lesion
    r = eb_ratio(wide, lesion, MM)
    assert r.ratio == pytest.approx(2.0) and r.elasto_length_mm == pytest.approx(4.0) and r.bmode_length_mm == 2.0
    small = np.zeros_like(lesion)
    small[45:55, 45:55] = True
    assert eb_ratio(small, lesion).ratio == pytest.approx(0.5)
    none = eb_ratio(np.zeros_like(lesion), lesion)
    assert none.ratio is None and "no stiff area" in none.reason


def test_eb_ratio_ignores_a_separate_stiff_area_and_caps_a_stiff_background():
    lesion = np.zeros((100, 200), bool)
    lesion[40:60, 90:110] = True
    stiff = lesion.copy()
    stiff[40:60, 5:20] = True  # another stiff blob, not connected
    assert eb_ratio(stiff, lesion).ratio == pytest.approx(1.0)
    assert eb_ratio(np.ones_like(lesion), lesion, search=1.0).ratio == pytest.approx(3.0)


def test_quality_map_from_colour_distance_and_from_uncertainty():
    distance = np.array([[0.0, 3.0], [9.0, 30.0]], np.float32)
    q = quality_map(distance, strain_colormap())
    assert q.source == "colour-map distance"
    assert q.confidence.ravel().tolist() == pytest.approx([1.0, 0.75, 0.25, 0.0])
    assert q.unsure.tolist() == [[False, False], [True, True]]
    sd = np.array([[0.0, 10.0], [50.0, 90.0]], np.float32)  # kPa on a 0-180 scale: unsure above 45 kPa (SWE: 0.25)
    u = quality_map(distance, swe_colormap(), uncertainty=sd, inside=np.array([[True, True], [True, False]]))
    assert u.source == "model uncertainty"
    assert u.unsure.tolist() == [[False, False], [True, False]]
    assert np.isnan(u.confidence[1, 1])


def test_roi_confidence_cautions_when_the_roi_lies_mostly_where_the_model_is_unsure():
    distance = np.zeros((50, 50), np.float32)
    distance[:, 25:] = 11.0  # right half unsure
    q = quality_map(distance, strain_colormap())
    left = np.zeros((50, 50), bool)
    left[10:20, 5:20] = True
    right = np.zeros((50, 50), bool)
    right[10:20, 27:45] = True
    assert not roi_confidence(q, left).caution
    sure_right = roi_confidence(q, right)
    assert sure_right.caution and sure_right.unsure_fraction == 1.0
    assert CAUTION_TEXT in sure_right.describe()
    assert roi_confidence(q, left).describe() == "ROI confidence 100% (0% of the ROI unsure; colour-map distance)"
    sd = np.where(right, 0.5, 0.0).astype(np.float32)  # from the model's uncertainty: no caution is no reassurance
    u = quality_map(np.zeros((50, 50), np.float32), strain_colormap(), uncertainty=sd)
    assert roi_confidence(u, left).describe().endswith(f"; {NO_CAUTION_TEXT}.")
    assert (
        CAUTION_TEXT in roi_confidence(u, right).describe()
        and NO_CAUTION_TEXT not in roi_confidence(u, right).describe()
    )


def test_framing_cautions_when_the_lesion_is_small_in_the_frame():
    mask = np.zeros((200, 300), bool)
    mask[90:110, 100:140] = True  # 40 px across in a frame 200 px high: 20 %
    small = framing(mask)
    assert small.fraction == pytest.approx(0.2) and small.caution
    assert small.box == (100, 90, 40, 20) and small.shape == (200, 300)
    assert FRAMING_TEXT in small.describe() and "20%" in small.describe()
    mask[60:140, 100:160] = True  # 80 px: 40 %
    assert not framing(mask).caution and "Caution" not in framing(mask).describe()
    assert framing(np.zeros((10, 10), bool)) is None
    # measured on a window of the image (what the reading tools do on large images): the same framing
    window = mask[50:150, 80:200]
    assert framing(window, mask.shape, (80, 50)) == framing(mask)
    assert SMALL_IN_FRAME == 0.25
    with pytest.raises(ValueError, match="shape"):
        framing(np.zeros((2, 2, 2), bool))


def test_model_uncertainty_is_asked_once_per_image_and_only_of_the_model_that_made_the_elastogram():
    from types import SimpleNamespace

    from usegan.services.reading import model_uncertainty
    from usegan.services.service import GenerationCache

    class Model:
        def __init__(self, version, sd):
            self.info, self.sd, self.calls = SimpleNamespace(version=version), sd, 0

        def generate(self, image):
            self.calls += 1
            return SimpleNamespace(rgb=None) if self.sd is None else SimpleNamespace(uncertainty=self.sd)

    case = SimpleNamespace(bmode_sha="abc", height=4, width=5, bmode=lambda: np.zeros((4, 5), np.uint8))
    generation = SimpleNamespace(model_version="v2", mode="swe")
    cache = GenerationCache()
    model = Model("v2", np.full((4, 5), 3.0))
    assert model_uncertainty(case, generation, model, cache).tolist() == np.full((4, 5), 3.0).tolist()
    assert model_uncertainty(case, generation, model, cache) is not None and model.calls == 1
    assert model_uncertainty(case, generation, Model("v1", np.ones((4, 5))), GenerationCache()) is None
    old = Model("v2", None)  # a checkpoint from before the uncertainty head
    assert model_uncertainty(case, generation, old, GenerationCache()) is None and old.calls == 1


def test_model_uncertainty_reads_the_map_stored_with_the_generation_without_running_a_model():
    from types import SimpleNamespace

    from usegan.services.reading import model_uncertainty
    from usegan.services.service import GenerationCache

    class Refusing:
        info = SimpleNamespace(version="v2")

        def generate(self, image):
            raise AssertionError("the stored map must be used")

    sd = np.full((4, 5), 2.5, np.float32)
    generation = SimpleNamespace(model_version="v1", mode="strain", has_uncertainty=True, uncertainty_sha="a" * 64,
                                 uncertainty_step=0.1, uncertainty=lambda: sd)  # fmt: skip
    case = SimpleNamespace(bmode_sha="abc", height=4, width=5)
    cache = GenerationCache()
    assert model_uncertainty(case, generation, Refusing(), cache) is sd  # another model version loaded: still right
    assert model_uncertainty(case, generation, None, cache) is sd and cache.hits == 1
    other_size = SimpleNamespace(bmode_sha="abc", height=8, width=10)  # a re-cropped case: the map no longer fits
    assert model_uncertainty(other_size, generation, None, cache) is None
