"""The reading copy of a large image: downscaled once at intake, so every later view and measurement is fast.

A 6000 x 6000 screen capture or scanner export holds 36 million pixels; the review page shows about 400 pixels
across, the model sees 256, and a reader's ROI is a few hundred pixels wide. Each case therefore stores a reading
copy whose longer side is at most :data:`READING_MAX_SIDE` (area-averaged, so speckle is averaged rather than
aliased) and keeps the file as received as its original. Lengths in mm stay right because the pixel spacing is
scaled by the same factor (:meth:`usegan.scoring.geometry.PixelSpacing.scaled`).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

READING_MAX_SIDE = 1024  # longer side of a case's stored B-mode, pixels (consoles show ~800-1000)


def reading_copy(image: np.ndarray, max_side: int = READING_MAX_SIDE) -> tuple[np.ndarray, float]:
    """``(H, W)`` or ``(H, W, 3)`` uint8 -> (the image with its longer side at most ``max_side``, the factor).

    The factor is new size / old size (1.0 when the image is small enough: it is returned unchanged, not copied).
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ValueError(f"expected a (H, W) or (H, W, 3) uint8 image, got {arr.dtype} {arr.shape}")
    if max_side < 16:
        raise ValueError(f"max_side must be at least 16 pixels, got {max_side!r}")
    height, width = arr.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return arr, 1.0
    factor = max_side / longer
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BOX))
    return small, size[0] / width if width >= height else size[1] / height


def scaled_spacing(spacing_mm: tuple[float, float] | None, factor: float) -> tuple[float, float] | None:
    """``(row, column)`` mm per pixel after resizing by ``factor`` (None stays None)."""
    if spacing_mm is None:
        return None
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    return float(spacing_mm[0]) / factor, float(spacing_mm[1]) / factor
