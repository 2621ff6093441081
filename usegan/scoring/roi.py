"""Regions of interest: rectangle, polygon or free-hand mask -> a boolean mask of the image, validated.

Coordinates are pixels with the origin at the image's top-left, x to the right and y down (PIL's convention).
A rectangle partly outside the image is clipped to it; one entirely outside, one of zero area, a polygon with
fewer than three vertices or a mask of another size raise :class:`RoiError`, which the CLI and ``propose`` turn
into a "cannot score" result naming the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


class RoiError(ValueError):
    """An ROI cannot be used on this image; the message says why."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle ROI."""

    x: int  # left column
    y: int  # top row
    w: int  # width in pixels
    h: int  # height in pixels

    def to_dict(self) -> dict[str, Any]:
        return {"type": "rect", "x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass(frozen=True)
class Polygon:
    """A closed polygon ROI (free-hand outlines from a canvas are polygons too)."""

    points: tuple[tuple[float, float], ...]  # (x, y) vertices in order; the last joins the first

    def to_dict(self) -> dict[str, Any]:
        return {"type": "polygon", "points": [list(p) for p in self.points]}


@dataclass(frozen=True)
class Ellipse:
    """An axis-aligned ellipse ROI (a circle when ``rx == ry``): the SWE Q-box and the strain-ratio fat reference.

    Radii are in pixels and may differ, so a circle of a given diameter in mm stays a circle on an image whose rows
    and columns have different spacings.
    """

    cx: float  # centre column
    cy: float  # centre row
    rx: float  # horizontal radius in pixels (> 0)
    ry: float  # vertical radius in pixels (> 0)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ellipse", "cx": self.cx, "cy": self.cy, "rx": self.rx, "ry": self.ry}


Roi = Rect | Polygon | Ellipse | np.ndarray


def parse_rect(text: str) -> Rect:
    """``"x,y,w,h"`` (integers) -> :class:`Rect`; raises :class:`RoiError` on anything else."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise RoiError(f"a rectangle ROI is 'x,y,w,h' in integer pixels, got {text!r}") from None
    return Rect(x, y, w, h)


_KEYS = {"polygon": {"points"}, "ellipse": {"cx", "cy", "rx", "ry"}, "rect": {"x", "y", "w", "h"}}


def roi_from_dict(data: dict[str, Any]) -> Rect | Polygon | Ellipse:
    """Inverse of ``Rect.to_dict`` / ``Polygon.to_dict`` / ``Ellipse.to_dict`` (for ROIs stored with a case). A dict
    without ``"type"`` is known by its keys: ``points`` a polygon, ``cx, cy, rx, ry`` an ellipse, ``x, y, w, h`` a
    rectangle."""
    kind = data.get("type")
    if kind is None:
        kind = next((k for k, keys in _KEYS.items() if keys <= data.keys()), None)
    if kind == "rect":
        return Rect(int(data["x"]), int(data["y"]), int(data["w"]), int(data["h"]))
    if kind == "polygon":
        return Polygon(tuple((float(x), float(y)) for x, y in data["points"]))
    if kind == "ellipse":
        return Ellipse(float(data["cx"]), float(data["cy"]), float(data["rx"]), float(data["ry"]))
    raise RoiError(f"ROI type must be 'rect', 'polygon' or 'ellipse', got {kind!r}")


def _rect_mask(rect: Rect, shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    if rect.w <= 0 or rect.h <= 0:
        raise RoiError(f"the ROI {rect.x},{rect.y},{rect.w},{rect.h} has zero area (width and height must be > 0)")
    x0, y0 = max(rect.x, 0), max(rect.y, 0)
    x1, y1 = min(rect.x + rect.w, width), min(rect.y + rect.h, height)
    if x0 >= x1 or y0 >= y1:
        raise RoiError(f"the ROI {rect.x},{rect.y},{rect.w},{rect.h} lies outside the {width}x{height} image")
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _polygon_mask(polygon: Polygon, shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    points = [(float(x), float(y)) for x, y in polygon.points]
    if len(points) < 3:
        raise RoiError(f"a polygon ROI needs at least 3 vertices, got {len(points)}")
    canvas = Image.new("1", (width, height), 0)
    ImageDraw.Draw(canvas).polygon(points, fill=1, outline=1)
    mask = np.array(canvas, dtype=bool)
    if not mask.any():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        inside = max(xs) >= 0 and min(xs) < width and max(ys) >= 0 and min(ys) < height
        problem = "has zero area" if inside else f"lies outside the {width}x{height} image"
        raise RoiError(f"the polygon ROI {problem}")
    return mask


def _ellipse_mask(ellipse: Ellipse, shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    if not (ellipse.rx > 0 and ellipse.ry > 0):
        raise RoiError(f"an ellipse ROI needs positive radii, got rx={ellipse.rx!r} ry={ellipse.ry!r}")
    yy, xx = np.ogrid[:height, :width]  # pixel (i, j) covers [j, j + 1) x [i, i + 1): its centre is j + 0.5
    mask = ((xx + 0.5 - ellipse.cx) / ellipse.rx) ** 2 + ((yy + 0.5 - ellipse.cy) / ellipse.ry) ** 2 <= 1.0
    if not mask.any():
        inside = -ellipse.rx < ellipse.cx < width + ellipse.rx and -ellipse.ry < ellipse.cy < height + ellipse.ry
        problem = "is smaller than a pixel" if inside else f"lies outside the {width}x{height} image"
        raise RoiError(f"the ellipse ROI {problem}")
    return mask


def _array_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.ndim == 3:  # a mask image saved in colour or with alpha: any non-zero channel is inside
        arr = arr.any(axis=-1)
    if arr.shape != tuple(shape):
        raise RoiError(
            f"the mask is {arr.shape[1] if arr.ndim > 1 else '?'}x{arr.shape[0]} pixels but the elastogram is "
            f"{shape[1]}x{shape[0]}"
        )
    out = arr.astype(bool)
    if not out.any():
        raise RoiError("the mask ROI has zero area (no non-zero pixel)")
    return out


def lesion_mask(roi: Roi, shape: tuple[int, int]) -> tuple[np.ndarray, str]:
    """The mask a *lesion* ROI is scored on, and how it was made.

    A rectangle drawn around a lesion is scored as the ellipse inscribed in it: lesions are round to oval, and the
    rectangle's corners are surrounding tissue that would otherwise count as the lesion's rim (a hard carcinoma
    with soft corners reads as "soft periphery, hard centre", Tsukuba 3, instead of 4-5). Polygons and masks are
    used as drawn. Raises :class:`RoiError` like :func:`roi_to_mask`.
    """
    mask = roi_to_mask(roi, shape)
    if not isinstance(roi, Rect):
        return mask, "as drawn"
    rows, cols = np.nonzero(mask)  # the rectangle clipped to the image
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    yy, xx = np.mgrid[y0:y1, x0:x1]
    cy, cx, ry, rx = (y0 + y1) / 2, (x0 + x1) / 2, (y1 - y0) / 2, (x1 - x0) / 2
    ellipse = np.zeros_like(mask)
    ellipse[y0:y1, x0:x1] = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1.0
    if ellipse.sum() < 4:  # too small to round off: keep the rectangle
        return mask, "rectangle as drawn"
    return ellipse, "ellipse inscribed in the drawn rectangle"


def role_mask(roi: Roi, shape: tuple[int, int], role: str) -> np.ndarray:
    """The mask an ROI drawn as ``role`` is read on: the ``"lesion"`` as it is scored (:func:`lesion_mask`), every
    other role as drawn (:func:`roi_to_mask`). Raises :class:`RoiError` like them."""
    return lesion_mask(roi, shape)[0] if role == "lesion" else roi_to_mask(roi, shape)


def roi_to_mask(roi: Roi, shape: tuple[int, int]) -> np.ndarray:
    """An ROI -> ``(H, W)`` bool mask for an image of ``shape = (H, W)``.

    ``roi`` is a :class:`Rect`, a :class:`Polygon`, an :class:`Ellipse`, or a mask array ``(H, W)`` /
    ``(H, W, C)`` (non-zero = inside). Raises :class:`RoiError` for zero area, an ROI entirely outside the
    image or a mask of another size.
    """
    shape = (int(shape[0]), int(shape[1]))
    if isinstance(roi, Rect):
        return _rect_mask(roi, shape)
    if isinstance(roi, Polygon):
        return _polygon_mask(roi, shape)
    if isinstance(roi, Ellipse):
        return _ellipse_mask(roi, shape)
    if isinstance(roi, np.ndarray):
        return _array_mask(roi, shape)
    raise TypeError(f"roi must be a Rect, a Polygon, an Ellipse or a mask array, got {type(roi).__name__}")


def roi_iou(a: Roi, b: Roi, shape: tuple[int, int]) -> float:
    """Intersection over union, in [0, 1], of two ROIs' masks on an image of ``shape = (H, W)``; 0 when either
    cannot be drawn there (zero area, entirely outside: :class:`RoiError`)."""
    try:
        first, second = roi_to_mask(a, shape), roi_to_mask(b, shape)
    except RoiError:
        return 0.0
    union = int((first | second).sum())
    return int((first & second).sum()) / union if union else 0.0
