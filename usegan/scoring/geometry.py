"""Millimetres on an image: pixel spacing, distances, lesion axes, and circles of a diameter in mm.

Coordinates are pixels as in :mod:`usegan.scoring.roi` (x = column to the right, y = row down, origin at the
image's top-left corner). A :class:`PixelSpacing` says how many mm one pixel covers along rows (``row_mm``, the
vertical = axial = depth direction) and columns (``col_mm``, lateral); ultrasound pixels are usually square, but
the two may differ (DICOM ``PixelSpacing`` is ``[row, column]``). ``None`` everywhere means "spacing unknown":
the functions then answer in pixels, and callers say so and offer a calibration (:func:`calibrate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from usegan.scoring.roi import Ellipse


@dataclass(frozen=True)
class PixelSpacing:
    """Size of one pixel in mm, and where that number came from."""

    row_mm: float  # mm per pixel down the image (axial, depth)
    col_mm: float  # mm per pixel across the image (lateral)
    source: str = "unknown"  # e.g. "DICOM PixelSpacing", "calibration: 10 mm over 98 px"

    def __post_init__(self) -> None:
        for name in ("row_mm", "col_mm"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"pixel spacing {name} must be a positive number of mm, got {value!r}")

    @classmethod
    def of(cls, value: PixelSpacing | float | tuple[float, float] | None, source: str = "unknown"):
        """``None`` -> ``None``; a number -> square pixels; ``(row_mm, col_mm)`` -> as given."""
        if value is None or isinstance(value, PixelSpacing):
            return value
        if isinstance(value, int | float):
            return cls(float(value), float(value), source)
        row, col = value
        return cls(float(row), float(col), source)

    def scaled(self, factor: float) -> PixelSpacing:
        """Spacing after resizing the image by ``factor`` (0.5 = half the pixels: each covers twice the mm)."""
        if not factor > 0:
            raise ValueError(f"resize factor must be positive, got {factor!r}")
        return PixelSpacing(self.row_mm / factor, self.col_mm / factor, f"{self.source}, resized x{factor:.4g}")

    @property
    def square(self) -> bool:
        return math.isclose(self.row_mm, self.col_mm, rel_tol=1e-3)

    def describe(self) -> str:
        size = f"{self.col_mm:.3g} mm/px" if self.square else f"{self.col_mm:.3g} x {self.row_mm:.3g} mm/px"
        return f"{size} ({self.source})"


def distance_px(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Euclidean length in pixels between two ``(x, y)`` points."""
    return math.hypot(end[0] - start[0], end[1] - start[1])


def distance_mm(start: tuple[float, float], end: tuple[float, float], spacing: PixelSpacing) -> float:
    """Length in mm between two ``(x, y)`` points (each axis in its own spacing)."""
    return math.hypot((end[0] - start[0]) * spacing.col_mm, (end[1] - start[1]) * spacing.row_mm)


def calibrate(start: tuple[float, float], end: tuple[float, float], known_mm: float) -> PixelSpacing:
    """Square-pixel spacing from a line drawn over a known length (e.g. 10 mm on the scanner's depth ruler).

    Raises ``ValueError`` for a line shorter than 2 pixels or a non-positive length.
    """
    length = distance_px(start, end)
    if length < 2:
        raise ValueError(f"the calibration line must be at least 2 pixels long, got {length:.1f}")
    if not (math.isfinite(known_mm) and known_mm > 0):
        raise ValueError(f"the known length must be a positive number of mm, got {known_mm!r}")
    per_px = known_mm / length
    return PixelSpacing(per_px, per_px, f"calibration: {known_mm:g} mm over {length:.0f} px")


def circle_mm(centre: tuple[float, float], diameter_mm: float, spacing: PixelSpacing) -> Ellipse:
    """A circle of ``diameter_mm`` around ``centre`` (x, y), in pixels (an ellipse on non-square pixels)."""
    if not (math.isfinite(diameter_mm) and diameter_mm > 0):
        raise ValueError(f"diameter must be a positive number of mm, got {diameter_mm!r}")
    return Ellipse(
        float(centre[0]), float(centre[1]), diameter_mm / 2 / spacing.col_mm, diameter_mm / 2 / spacing.row_mm
    )


@dataclass(frozen=True)
class Axes:
    """The two axes of a region: the longest extent and the extent across it."""

    long_px: float  # extent along the principal axis, pixels (of a square-pixel image)
    short_px: float  # extent across it
    long_mm: float | None  # the same in mm, None when the spacing is unknown
    short_mm: float | None
    angle_deg: float  # direction of the long axis from the image's x axis, degrees (0 = horizontal)

    def describe(self) -> str:
        if self.long_mm is None:
            return f"{self.long_px:.0f} x {self.short_px:.0f} px (pixel spacing unknown)"
        return f"{self.long_mm:.1f} x {self.short_mm:.1f} mm"


def region_axes(mask: np.ndarray, spacing: PixelSpacing | None = None) -> Axes:
    """Long and short axes of a ``(H, W)`` bool region, measured along its principal directions.

    Coordinates are taken in mm first (each axis by its own spacing), so the axes are right on non-square pixels;
    each extent counts whole pixels (a 10-pixel-wide rectangle is 10 pixels long, not 9). Raises ``ValueError``
    for an empty mask.
    """
    region = np.asarray(mask, dtype=bool)
    if region.ndim != 2 or not region.any():
        raise ValueError(f"the region must be a non-empty (H, W) mask, got shape {region.shape}")
    rows, cols = np.nonzero(region)
    row_mm, col_mm = (spacing.row_mm, spacing.col_mm) if spacing else (1.0, 1.0)
    points = np.stack([cols * col_mm, rows * row_mm], axis=1).astype(np.float64)
    centred = points - points.mean(axis=0)
    if len(points) > 2:
        _, vectors = np.linalg.eigh(np.cov(centred.T))
        major = vectors[:, 1]
    else:
        major = np.array([1.0, 0.0])
    if abs(major[0]) < 1e-9 and abs(major[1]) < 1e-9:
        major = np.array([1.0, 0.0])
    minor = np.array([-major[1], major[0]])
    # A pixel adds its own footprint along each direction to the centre-to-centre span.
    long = np.ptp(centred @ major) + abs(major[0]) * col_mm + abs(major[1]) * row_mm
    short = np.ptp(centred @ minor) + abs(minor[0]) * col_mm + abs(minor[1]) * row_mm
    if short > long:
        long, short, major = short, long, minor
    angle = math.degrees(math.atan2(major[1], major[0])) % 180.0
    pixel = 1.0 if spacing is None else math.sqrt(row_mm * col_mm)
    return Axes(
        long_px=float(long / pixel),
        short_px=float(short / pixel),
        long_mm=float(long) if spacing else None,
        short_mm=float(short) if spacing else None,
        angle_deg=float(angle),
    )


def lateral_extent(mask: np.ndarray) -> int:
    """Width in pixels of a region across the image (columns from its leftmost to its rightmost pixel)."""
    cols = np.nonzero(np.asarray(mask, dtype=bool).any(axis=0))[0]
    return int(cols.max() - cols.min() + 1) if cols.size else 0


def centre_depth(mask: np.ndarray) -> float:
    """Mean row (y, pixel centres) of a non-empty region: its depth on the image."""
    rows = np.nonzero(np.asarray(mask, dtype=bool))[0]
    if rows.size == 0:
        raise ValueError("the region is empty")
    return float(rows.mean() + 0.5)
