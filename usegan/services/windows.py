"""Windows of a large image around the reader's ROIs: where the proposal and the reading tools look.

A 36 MP upload is read on its 1024 px reading copy (:mod:`usegan.downscale`): a million pixels, of which an ROI and
its surroundings are a few thousand. The scorer and the measurements only read the ROIs' pixels and a band around
the lesion, so computing them on a window holding those, with the ROIs moved into the window's coordinates and
pixel positions moved back afterwards, gives the same figures as on the whole image (tests/test_scoring_window.py
and tests/test_reading_window.py compare them) at the cost of the window, not of the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from usegan.scoring.roi import Ellipse, Polygon, Rect


def shifted(roi, dx: float, dy: float):
    """``roi`` in the coordinates of a window whose top-left corner is image pixel ``(dx, dy)``; None for an ROI
    that is not a shape (a mask array)."""
    if isinstance(roi, Rect):
        return replace(roi, x=roi.x - int(dx), y=roi.y - int(dy))
    if isinstance(roi, Ellipse):
        return replace(roi, cx=roi.cx - dx, cy=roi.cy - dy)
    if isinstance(roi, Polygon):
        return replace(roi, points=tuple((x - dx, y - dy) for x, y in roi.points))
    return None


def scaled(roi, fx: float, fy: float):
    """``roi`` with every coordinate multiplied by ``fx`` (columns) and ``fy`` (rows): the same region on a copy of
    the image resampled by those factors; None for an ROI that is not a shape (a mask array)."""
    if not (fx > 0 and fy > 0):
        raise ValueError(f"scale factors must be positive, got {fx!r}, {fy!r}")
    if isinstance(roi, Rect):
        return Rect(round(roi.x * fx), round(roi.y * fy), max(1, round(roi.w * fx)), max(1, round(roi.h * fy)))
    if isinstance(roi, Ellipse):
        return Ellipse(roi.cx * fx, roi.cy * fy, roi.rx * fx, roi.ry * fy)
    if isinstance(roi, Polygon):
        return replace(roi, points=tuple((x * fx, y * fy) for x, y in roi.points))
    return None


def bounds(roi) -> tuple[float, float, float, float] | None:
    """``(x0, y0, x1, y1)`` of a shape ROI in image pixels (None for a mask array)."""
    if isinstance(roi, Rect):
        return roi.x, roi.y, roi.x + roi.w, roi.y + roi.h
    if isinstance(roi, Ellipse):
        return roi.cx - roi.rx, roi.cy - roi.ry, roi.cx + roi.rx, roi.cy + roi.ry
    if isinstance(roi, Polygon) and roi.points:
        xs, ys = [p[0] for p in roi.points], [p[1] for p in roi.points]
        return min(xs), min(ys), max(xs), max(ys)
    return None


@dataclass(frozen=True)
class Window:
    """Rows ``y0:y1`` and columns ``x0:x1`` of an image of ``shape``."""

    y0: int
    y1: int
    x0: int
    x1: int
    shape: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def crop(self, array: np.ndarray) -> np.ndarray:
        return array[self.y0 : self.y1, self.x0 : self.x1]

    def rois(self, rois: dict) -> dict:
        return {role: shifted(roi, self.x0, self.y0) for role, roi in rois.items()}

    def embed(self, mask: np.ndarray) -> np.ndarray:
        """A window's mask as a mask of the whole image."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.y0 : self.y1, self.x0 : self.x1] = mask
        return out


def around(rois: dict, shape: tuple[int, int], lesion_margin: float = 1.0, pad: int = 3) -> Window | None:
    """The window holding every ROI of ``rois``, the lesion's box widened by ``lesion_margin`` x its size on each
    side, and ``pad`` pixels more; None when an ROI is a mask array or lies outside the image (the whole image is
    used then, and gives its own answer)."""
    height, width = int(shape[0]), int(shape[1])
    boxes = []
    for role, roi in rois.items():
        box = bounds(roi)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        if not (x1 > x0 and y1 > y0) or x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
            return None  # empty or outside: the whole image, so any refusal names the image's own coordinates
        if role == "lesion":
            w, h = x1 - x0, y1 - y0
            x0, x1 = x0 - lesion_margin * w, x1 + lesion_margin * w
            y0, y1 = y0 - lesion_margin * h, y1 + lesion_margin * h
        boxes.append((x0, y0, x1, y1))
    if not boxes:
        return None
    x0 = max(0, math.floor(min(b[0] for b in boxes)) - pad)
    y0 = max(0, math.floor(min(b[1] for b in boxes)) - pad)
    x1 = min(width, math.ceil(max(b[2] for b in boxes)) + pad)
    y1 = min(height, math.ceil(max(b[3] for b in boxes)) + pad)
    return Window(y0, y1, x0, x1, (height, width))
