"""Console-style measurements on an inverted elastogram: strain ratio series, SWE Q-box, E/B ratio, lesion size.

What a reader does on a strain console (Hitachi/Fujifilm) or a shear-wave console (SuperSonic Aixplorer):

* **Strain ratio** [Zhi10]: a lesion ROI and a small circular fat reference *at the same depth* (stress falls with
  depth, so a deeper or shallower reference biases the ratio); both mean strains shown; about three measurements
  averaged. :func:`measure_strain_ratio` makes one, :class:`MeasurementSeries` keeps up to N with mean and SD.
  The lesion is scored on the same mask as the proposal (:func:`usegan.scoring.roi.lesion_mask`: a rectangle is
  its inscribed ellipse) so the numbers, the chart and the score describe one region.
* **Q-box** [BE1-12; WFUMB15]: a circle of a chosen diameter in mm; Emean, Emax, Emin, SD in kPa and as shear-wave
  speed in m/s (E = 3 rho c^2, rho = 1000 kg/m^3: 80 kPa = 5.16 m/s), where Emax is, and the Q-box ratio
  (lesion Emean / fat Emean). :func:`measure_qbox`.
* **E/B ratio** [Barr19]: lesion length on the elastogram / on the B-mode; malignant lesions look larger on the
  elastogram (> 1), benign ones smaller. :func:`eb_ratio`.

[Barr19] Barr 2019 on the E/B ratio (> 1 malignant, < 1 benign), as quoted in docs/domain.md section 6.
Other references: :mod:`usegan.scoring.thresholds`.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from usegan.scoring.geometry import Axes, PixelSpacing, centre_depth, circle_mm, lateral_extent, region_axes
from usegan.scoring.ratio import LINEAR, StrainScale, strain_ratio
from usegan.scoring.roi import Roi, RoiError, lesion_mask, roi_to_mask
from usegan.scoring.swe import qbox
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds


@dataclass(frozen=True)
class StrainRatioMeasurement:
    """One strain-ratio measurement: lesion ROI + fat reference, both means, the ratio, and the depths."""

    ratio: float | None  # reference / lesion mean relative strain; None when it cannot be measured
    lesion_mean_strain: float | None  # mean displayed (normalised, 0 hard .. 1 soft) strain in the lesion
    reference_mean_strain: float | None  # the same in the fat reference
    lesion_depth_px: float  # row of the lesion's centre
    reference_depth_px: float  # row of the reference's centre
    lesion_rows: tuple[int, int]  # first and last row of the lesion region (the "same depth" band)
    depth_offset_mm: float | None  # reference centre minus lesion centre, mm (> 0: reference deeper)
    reason: str | None = None  # why there is no ratio

    @property
    def same_depth(self) -> bool:
        """True when the reference's centre lies within the lesion's depth band."""
        return self.lesion_rows[0] <= self.reference_depth_px <= self.lesion_rows[1] + 1

    @property
    def depth_offset_px(self) -> float:
        return self.reference_depth_px - self.lesion_depth_px


def measure_strain_ratio(
    strain: np.ndarray,
    lesion_roi: Roi,
    reference_roi: Roi,
    spacing: PixelSpacing | None = None,
    scale: StrainScale = LINEAR,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> StrainRatioMeasurement:
    """Strain ratio of one lesion/reference pair on ``strain`` (H, W) normalised [0, 1], NaN = unknown.

    The lesion is masked like the proposal's (rectangle -> inscribed ellipse), the reference as drawn (usually an
    :class:`~usegan.scoring.roi.Ellipse` from :func:`~usegan.scoring.geometry.circle_mm`). Raises
    :class:`~usegan.scoring.roi.RoiError` for an ROI outside the image or of zero area; an ROI that is too small,
    mostly off the colour map or a lesion at the blue end gives ``ratio=None`` with the reason.
    """
    shape = np.shape(strain)[:2]
    lesion, _ = lesion_mask(lesion_roi, shape)
    reference = roi_to_mask(reference_roi, shape)
    if (lesion & reference).any():
        raise RoiError("the fat reference overlaps the lesion ROI: place it in the fat beside the lesion")
    result = strain_ratio(strain, lesion, reference, thresholds, scale)
    figures = result.figures
    lesion_rows = np.nonzero(lesion.any(axis=1))[0]
    lesion_depth, reference_depth = centre_depth(lesion), centre_depth(reference)
    offset_mm = None if spacing is None else (reference_depth - lesion_depth) * spacing.row_mm
    return StrainRatioMeasurement(
        ratio=figures.get("strain_ratio") if result.scored else None,
        lesion_mean_strain=_finite(figures.get("lesion_mean_strain")),
        reference_mean_strain=_finite(figures.get("reference_mean_strain")),
        lesion_depth_px=lesion_depth,
        reference_depth_px=reference_depth,
        lesion_rows=(int(lesion_rows.min()), int(lesion_rows.max())),
        depth_offset_mm=offset_mm,
        reason=result.reason,
    )


def _finite(value) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


@dataclass(frozen=True)
class MeasurementSeries:
    """Up to ``max_n`` repeated strain-ratio measurements with their mean and sample SD (consoles average ~3)."""

    items: tuple[StrainRatioMeasurement, ...] = ()
    max_n: int = 5  # a further measurement is refused: clear the series first

    def __post_init__(self) -> None:
        if self.max_n < 1:
            raise ValueError(f"max_n must be >= 1, got {self.max_n!r}")
        if len(self.items) > self.max_n:
            raise ValueError(f"a series holds at most {self.max_n} measurements, got {len(self.items)}")

    def add(self, measurement: StrainRatioMeasurement) -> MeasurementSeries:
        """A new series with ``measurement`` appended; ``ValueError`` when full or when it has no ratio."""
        if measurement.ratio is None:
            raise ValueError(f"a measurement without a ratio cannot be added ({measurement.reason})")
        if self.full:
            raise ValueError(f"the series already holds {self.max_n} measurements: clear it to start again")
        return replace(self, items=(*self.items, measurement))

    @property
    def full(self) -> bool:
        return len(self.items) >= self.max_n

    @property
    def ratios(self) -> list[float]:
        return [m.ratio for m in self.items]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.ratios) if self.items else None

    @property
    def sd(self) -> float | None:
        """Sample standard deviation (n - 1); None below two measurements."""
        return statistics.stdev(self.ratios) if len(self.items) >= 2 else None


@dataclass(frozen=True)
class QBoxMeasurement:
    """SWE statistics inside one circular Q-box, in kPa and m/s, with Emax's position and the Q-box ratio."""

    diameter_mm: float | None  # the circle's diameter in mm (None when drawn without a spacing)
    pixels: int  # known (on-map) pixels inside the circle
    emean_kpa: float | None
    emax_kpa: float | None
    emin_kpa: float | None
    sd_kpa: float | None
    mean_ms: float | None  # shear-wave speed, m/s
    max_ms: float | None
    min_ms: float | None
    sd_ms: float | None
    emax_at: tuple[int, int] | None  # (x, y) pixel of Emax
    reference_emean_kpa: float | None = None  # fat Q-box Emean
    ratio: float | None = None  # lesion Emean / fat Emean
    at_scale_max: bool = False  # Emax is at the colour scale's top: the true value may be higher
    at_scale_min: bool = False  # Emin is at the scale's bottom: the true value may be lower
    reason: str | None = None  # why there are no figures


def measure_qbox(
    kpa: np.ndarray,
    qbox_roi: Roi,
    reference_roi: Roi | None = None,
    diameter_mm: float | None = None,
    scale_kpa: tuple[float, float] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> QBoxMeasurement:
    """Q-box statistics of ``kpa`` (H, W) Young's modulus, NaN = unknown, inside ``qbox_roi`` (usually a circle
    from :func:`~usegan.scoring.geometry.circle_mm`); ``reference_roi`` (a fat Q-box) adds the ratio.

    ``scale_kpa`` ``(vmin, vmax)`` of the colour scale flags values at its ends (a saturated display gives bounds
    only). Raises :class:`~usegan.scoring.roi.RoiError` for a circle outside the image.
    """
    shape = np.shape(kpa)[:2]
    region = roi_to_mask(qbox_roi, shape)
    reference = None if reference_roi is None else roi_to_mask(reference_roi, shape)
    result = qbox(kpa, region, reference, "breast", thresholds)  # the organ only affects the class, unused here
    f = result.figures
    empty = QBoxMeasurement(diameter_mm, int(f.get("lesion_known_pixels", 0)), *(None,) * 9, reason=result.reason)
    if not result.scored:
        return empty
    values = np.where(region & np.isfinite(kpa), kpa, -np.inf)
    y, x = np.unravel_index(int(np.argmax(values)), values.shape)
    half_step = 0.0 if scale_kpa is None else (scale_kpa[1] - scale_kpa[0]) / 255 / 2
    return QBoxMeasurement(
        diameter_mm=diameter_mm,
        pixels=int(f["lesion_known_pixels"]),
        emean_kpa=f["emean_kpa"],
        emax_kpa=f["emax_kpa"],
        emin_kpa=f["emin_kpa"],
        sd_kpa=f["sd_kpa"],
        mean_ms=f["mean_speed_ms"],
        max_ms=f["max_speed_ms"],
        min_ms=f["min_speed_ms"],
        sd_ms=f["sd_speed_ms"],
        emax_at=(int(x), int(y)),
        reference_emean_kpa=f.get("reference_emean_kpa"),
        ratio=_finite(f.get("eratio")),
        at_scale_max=scale_kpa is not None and f["emax_kpa"] >= scale_kpa[1] - half_step,
        at_scale_min=scale_kpa is not None and f["emin_kpa"] <= scale_kpa[0] + half_step,
    )


def qbox_circle(centre: tuple[float, float], diameter_mm: float, spacing: PixelSpacing | None):
    """The Q-box circle for a click at ``centre``; ``ValueError`` naming the fix when the spacing is unknown."""
    if spacing is None:
        raise ValueError("the pixel spacing of this image is unknown: calibrate it before placing a Q-box in mm")
    return circle_mm(centre, diameter_mm, spacing)


@dataclass(frozen=True)
class EBRatio:
    """Lesion length on the elastogram / on the B-mode (both across the image)."""

    elasto_length_px: int  # lateral extent of the stiff area that holds the lesion
    bmode_length_px: int  # lateral extent of the lesion outlined on the B-mode
    elasto_length_mm: float | None
    bmode_length_mm: float | None
    ratio: float | None  # elasto / B-mode; None when no stiff area overlaps the lesion
    reason: str | None = None


def eb_ratio(
    stiff: np.ndarray, bmode_lesion: np.ndarray, spacing: PixelSpacing | None = None, search: float = 1.0
) -> EBRatio:
    """E/B ratio from a ``(H, W)`` bool map of stiff pixels (strain: below the hard threshold) and the lesion
    outlined on the B-mode (``(H, W)`` bool, e.g. the lesion ROI's mask).

    The elastogram's lesion is the stiff area connected to the B-mode lesion's core, looked for inside the
    lesion's bounding box widened by ``search`` x its size on each side (a stiff background does not make the
    lesion endless; it makes it as large as the window, which still reads > 1).
    """
    stiff = np.asarray(stiff, dtype=bool)
    lesion = np.asarray(bmode_lesion, dtype=bool)
    if stiff.shape != lesion.shape:
        raise ValueError(f"stiff map {stiff.shape} and lesion mask {lesion.shape} must have the same shape")
    if not lesion.any():
        raise ValueError("the B-mode lesion mask is empty")
    bmode_px = lateral_extent(lesion)
    rows, cols = np.nonzero(lesion)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    window = np.zeros_like(stiff)
    window[
        max(0, int(rows.min() - search * h)) : int(rows.max() + 1 + search * h),
        max(0, int(cols.min() - search * w)) : int(cols.max() + 1 + search * w),
    ] = True
    cleaned = ndimage.binary_opening(stiff & window, iterations=1)  # lone hard pixels are speckle, not lesion
    labels, _ = ndimage.label(cleaned)
    core = ndimage.binary_erosion(lesion, iterations=max(1, int(0.25 * min(h, w)))) if min(h, w) > 4 else lesion
    touched = np.unique(labels[(core if core.any() else lesion) & (labels > 0)])
    col_mm = None if spacing is None else spacing.col_mm
    bmode_mm = None if col_mm is None else bmode_px * col_mm
    if touched.size == 0:
        return EBRatio(0, bmode_px, None, bmode_mm, None, "no stiff area overlaps the lesion on the elastogram")
    elasto_px = lateral_extent(np.isin(labels, touched))
    return EBRatio(elasto_px, bmode_px, None if col_mm is None else elasto_px * col_mm, bmode_mm, elasto_px / bmode_px)


def lesion_size(lesion_roi: Roi, shape: tuple[int, int], spacing: PixelSpacing | None = None) -> Axes:
    """The lesion's two axes (long, short) on the region the score uses (rectangle -> inscribed ellipse)."""
    mask, _ = lesion_mask(lesion_roi, shape)
    return region_axes(mask, spacing)
