"""ROIs drawn on a streamlit-drawable-canvas -> :mod:`usegan.scoring.roi` ROIs in original-image pixels.

The canvas shows the image scaled by ``scale`` (canvas pixels per image pixel), so every coordinate is divided by
``scale``. Fabric.js objects come in three shapes that matter here:

* ``rect``: ``left``/``top`` (origin left/top) and ``width``/``height`` times ``scaleX``/``scaleY``;
* ``polygon``: absolute ``points`` ``[{x, y}, ...]`` plus the object's own transform;
* ``path`` (free-hand, or a polygon still being drawn): commands ``[["M", x, y], ["Q", x1, y1, x2, y2], ["L", x, y],
  ...]``; every end point is kept, and the outline is closed.

Polygon and path points are stored relative to their ``pathOffset`` (the centre of their bounding box); an object
the user moved or resized in the canvas's edit mode keeps its points and changes ``left``/``top``/``scale``, so
points are mapped through that transform. Which ROI is which is decided by the stroke colour: the lesion ROI
is drawn in :data:`LESION_COLOUR`, the reference (fat) ROI in :data:`REFERENCE_COLOUR`, the SWE Q-box in
:data:`QBOX_COLOUR`; the newest of each wins. Two more kinds of object are read:

* ``circle`` (the canvas's point tool: a click drops a circle of the tool's radius) -> an
  :class:`~usegan.scoring.roi.Ellipse` ROI (fat reference, Q-box);
* ``line`` -> a :class:`Segment`: the distance caliper (:data:`CALIPER_COLOUR`) or a calibration line
  (:data:`CALIBRATION_COLOUR`). Fabric keeps a line's end points relative to its centre.

A :class:`Viewport` maps canvas pixels to image pixels when the canvas shows a zoomed, panned part of the image;
a plain number is the scale of an unzoomed canvas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from usegan.scoring.roi import Ellipse, Polygon, Rect, RoiError, roi_from_dict, roi_to_mask

LESION_COLOUR = "#ffd400"  # yellow outline: the lesion ROI
REFERENCE_COLOUR = "#00e5ff"  # cyan outline: the reference (fat) ROI
QBOX_COLOUR = "#ff4fd8"  # magenta circle: the SWE Q-box
CALIPER_COLOUR = "#ffffff"  # white line: the distance caliper
CALIBRATION_COLOUR = "#ff9900"  # orange line: a known length, for calibrating the pixel spacing
ROI_FILL = "rgba(255, 255, 255, 0.08)"  # almost transparent, so the colours underneath stay readable
ROLES = ("lesion", "reference", "qbox")  # ROIs kept with a review
LINE_ROLES = ("caliper", "calibration")
COLOURS = {
    "lesion": LESION_COLOUR,
    "reference": REFERENCE_COLOUR,
    "qbox": QBOX_COLOUR,
    "caliper": CALIPER_COLOUR,
    "calibration": CALIBRATION_COLOUR,
}


@dataclass(frozen=True)
class Viewport:
    """Which part of the image a canvas shows: canvas pixel ``(u, v)`` = image pixel ``(x0 + u / scale, ...)``."""

    scale: float  # canvas pixels per image pixel (> 0)
    x0: float = 0.0  # image column at the canvas's left edge
    y0: float = 0.0  # image row at the canvas's top edge
    width: int = 0  # canvas size in pixels (0 = not given)
    height: int = 0

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale!r}")

    def to_image(self, u: float, v: float) -> tuple[float, float]:
        return self.x0 + u / self.scale, self.y0 + v / self.scale

    def to_canvas(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x0) * self.scale, (y - self.y0) * self.scale

    def background(self, rgb: np.ndarray) -> Image.Image:
        """The part of ``rgb`` (H, W, 3) uint8 this canvas shows, resized to the canvas."""
        h, w = rgb.shape[:2]
        width = self.width or max(1, round(w * self.scale))
        height = self.height or max(1, round(h * self.scale))
        # rounding the canvas size can reach a fraction of a pixel past the image edge: PIL refuses such a box
        box = (
            self.x0,
            self.y0,
            min(float(w), self.x0 + width / self.scale),
            min(float(h), self.y0 + height / self.scale),
        )
        return Image.fromarray(rgb).resize((width, height), Image.BILINEAR, box=box)


def viewport(shape: tuple[int, int], base_scale: float, zoom: float = 1.0, centre=(0.5, 0.5)) -> Viewport:
    """The canvas view of an image of ``shape`` (H, W) shown at ``base_scale``, magnified ``zoom`` (>= 1) around
    ``centre`` (fractions of the width and height), kept inside the image. The canvas keeps its unzoomed size."""
    if not zoom >= 1:
        raise ValueError(f"zoom must be >= 1, got {zoom!r}")
    h, w = int(shape[0]), int(shape[1])
    width, height = max(1, round(w * base_scale)), max(1, round(h * base_scale))
    scale = base_scale * zoom
    seen_w, seen_h = width / scale, height / scale
    x0 = min(max(centre[0] * w - seen_w / 2, 0.0), max(w - seen_w, 0.0))
    y0 = min(max(centre[1] * h - seen_h / 2, 0.0), max(h - seen_h, 0.0))
    return Viewport(scale, x0, y0, width, height)


def _as_view(view: Viewport | float) -> Viewport:
    return view if isinstance(view, Viewport) else Viewport(float(view) if view else -1.0)


@dataclass(frozen=True)
class Segment:
    """A straight line between two image points ``(x, y)``: a caliper or a calibration line."""

    start: tuple[float, float]
    end: tuple[float, float]

    @property
    def length_px(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])


def _origin_centre(obj: dict, axis: str, extent: float) -> float:
    """The object's centre on ``axis`` ("x" or "y") from its ``left``/``top`` and origin."""
    position = float(obj.get("left" if axis == "x" else "top", 0.0))
    origin = obj.get("originX" if axis == "x" else "originY", "left" if axis == "x" else "top")
    offset = {"left": 0.5, "top": 0.5, "center": 0.0, "right": -0.5, "bottom": -0.5}.get(origin, 0.5)
    return position + offset * extent


def _transformed_points(obj: dict, points: np.ndarray) -> np.ndarray:
    """Absolute canvas points of a polygon/path through its own move/scale transform."""
    if "pathOffset" not in obj or "left" not in obj:
        return points
    scale = np.array([float(obj.get("scaleX", 1.0)), float(obj.get("scaleY", 1.0))])
    stroke = float(obj.get("strokeWidth", 0.0) or 0.0)
    extent_x = (float(obj.get("width", 0.0)) + stroke) * scale[0]
    extent_y = (float(obj.get("height", 0.0)) + stroke) * scale[1]
    centre = np.array([_origin_centre(obj, "x", extent_x), _origin_centre(obj, "y", extent_y)])
    offset = obj["pathOffset"]
    path_offset = np.array([float(offset.get("x", 0.0)), float(offset.get("y", 0.0))])
    return (points - path_offset) * scale + centre


def _path_points(path: list) -> np.ndarray:
    points = []
    for command in path:
        if not command or len(command) < 3:
            continue  # "z" / "Z" closes the path: the polygon is closed anyway
        points.append((float(command[-2]), float(command[-1])))
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def object_to_roi(obj: dict[str, Any], view: Viewport | float) -> Rect | Polygon | Ellipse:
    """One Fabric.js object -> a :class:`Rect`, :class:`Polygon` or :class:`Ellipse` in image pixels.

    ``view``: the canvas's :class:`Viewport`, or its scale (canvas pixels per image pixel, > 0) when it shows the
    whole image. Raises :class:`RoiError` for shapes that cannot be an ROI.
    """
    view = _as_view(view)
    scale = view.scale
    kind = str(obj.get("type", "")).lower()
    if kind == "rect":
        width = float(obj.get("width", 0.0)) * float(obj.get("scaleX", 1.0))
        height = float(obj.get("height", 0.0)) * float(obj.get("scaleY", 1.0))
        left = _origin_centre(obj, "x", width) - width / 2
        top = _origin_centre(obj, "y", height) - height / 2
        (x0, y0), (x1, y1) = view.to_image(left, top), view.to_image(left + width, top + height)
        x0, y0, x1, y1 = round(x0), round(y0), round(x1), round(y1)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))
    if kind == "circle":
        stroke = float(obj.get("strokeWidth", 0.0) or 0.0)
        rx = float(obj.get("radius", 0.0)) * float(obj.get("scaleX", 1.0))
        ry = float(obj.get("radius", 0.0)) * float(obj.get("scaleY", 1.0))
        if not (rx > 0 and ry > 0):
            raise RoiError("a circle ROI needs a positive radius")
        cx, cy = _origin_centre(obj, "x", 2 * rx + stroke), _origin_centre(obj, "y", 2 * ry + stroke)
        x, y = view.to_image(cx, cy)
        return Ellipse(round(x, 2), round(y, 2), round(rx / scale, 2), round(ry / scale, 2))
    if kind == "polygon":
        raw = np.array([(float(p["x"]), float(p["y"])) for p in obj.get("points", [])], dtype=np.float64)
        points = _transformed_points(obj, raw.reshape(-1, 2))
    elif kind == "path":
        points = _transformed_points(obj, _path_points(obj.get("path", [])))
    else:
        raise RoiError(f"a {kind or 'unknown'} shape cannot be an ROI: draw a rectangle, polygon or free-hand outline")
    if len(points) < 3:
        raise RoiError(f"an outline needs at least 3 points, got {len(points)}")
    image = [view.to_image(x, y) for x, y in points]
    return Polygon(tuple((round(x, 2), round(y, 2)) for x, y in image))


def object_to_segment(obj: dict[str, Any], view: Viewport | float) -> Segment:
    """A Fabric.js ``line`` -> a :class:`Segment` in image pixels (its ends are stored relative to its centre)."""
    view = _as_view(view)
    if str(obj.get("type", "")).lower() != "line":
        raise RoiError(f"a {obj.get('type') or 'unknown'} shape is not a line")
    sx, sy = float(obj.get("scaleX", 1.0)), float(obj.get("scaleY", 1.0))
    stroke = float(obj.get("strokeWidth", 0.0) or 0.0)
    cx = _origin_centre(obj, "x", (float(obj.get("width", 0.0)) + stroke) * sx)
    cy = _origin_centre(obj, "y", (float(obj.get("height", 0.0)) + stroke) * sy)
    ends = [(cx + float(obj.get(f"x{i}", 0.0)) * sx, cy + float(obj.get(f"y{i}", 0.0)) * sy) for i in (1, 2)]
    (x1, y1), (x2, y2) = (view.to_image(u, v) for u, v in ends)
    return Segment((round(x1, 2), round(y1, 2)), (round(x2, 2), round(y2, 2)))


def _role_of(obj: dict) -> str | None:
    stroke = str(obj.get("stroke", "")).lower()
    for role, colour in COLOURS.items():
        if stroke == colour:
            return role
    return None


@dataclass(frozen=True)
class Marks:
    """What a reader has drawn on the canvas, in image pixels: the newest of each ROI and line, and how many
    objects of each role the canvas holds (more than one: an older one is still drawn and should go)."""

    rois: dict = field(default_factory=dict)  # role in ROLES -> Rect / Polygon / Ellipse
    lines: dict = field(default_factory=dict)  # role in LINE_ROLES -> Segment
    counts: dict = field(default_factory=dict)  # role -> objects of that role on the canvas

    @property
    def stale(self) -> bool:
        """True when an older shape of some role is still on the canvas."""
        return any(n > 1 for n in self.counts.values())


def marks_from_canvas(json_data: dict | None, view: Viewport | float) -> Marks:
    """:class:`Marks` from a canvas's ``json_data``; objects of another colour and unusable shapes are ignored."""
    rois, lines, counts = {}, {}, {}
    for obj in (json_data or {}).get("objects", []) or []:
        role = _role_of(obj)
        if role is None:
            continue
        try:
            if role in LINE_ROLES:
                lines[role] = object_to_segment(obj, view)
            else:
                rois[role] = object_to_roi(obj, view)
        except RoiError:
            continue
        counts[role] = counts.get(role, 0) + 1
    return Marks(rois, lines, counts)


def rois_from_canvas(json_data: dict | None, view: Viewport | float) -> dict[str, Rect | Polygon | Ellipse]:
    """``{"lesion": roi, "reference": roi, "qbox": roi}`` (any may be absent) from a canvas's ``json_data``.

    Objects of another colour, and shapes that cannot be ROIs (a stray click), are ignored.
    """
    return marks_from_canvas(json_data, view).rois


def rois_to_json(rois: dict[str, Rect | Polygon]) -> dict[str, dict]:
    """ROIs -> JSON-safe dicts for the review record (``Rect.to_dict`` / ``Polygon.to_dict``)."""
    return {role: roi.to_dict() for role, roi in rois.items() if role in ROLES}


def rois_from_json(data: dict | None) -> dict[str, Rect | Polygon]:
    """Inverse of :func:`rois_to_json`; unreadable entries are dropped."""
    out: dict[str, Rect | Polygon] = {}
    for role, value in (data or {}).items():
        if role in ROLES and isinstance(value, dict):
            try:
                out[role] = roi_from_dict(value)
            except (RoiError, KeyError, TypeError, ValueError):
                continue
    return out


def roi_masks(rois: dict[str, Rect | Polygon], shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """``{role: (H, W) bool}`` for the ROIs that have area on an image of ``shape``; others are dropped."""
    masks = {}
    for role, roi in rois.items():
        try:
            masks[role] = roi_to_mask(roi, shape)
        except RoiError:
            continue
    return masks


def rois_to_drawing(
    rois: dict[str, Rect | Polygon | Ellipse],
    view: Viewport | float,
    stroke_width: int = 2,
    lines: dict[str, Segment] | None = None,
) -> dict:
    """ROIs (and caliper lines) in image pixels -> a canvas ``initial_drawing`` (so they show again)."""
    view = _as_view(view)
    scale = view.scale
    objects = []
    for role, roi in rois.items():
        common = {"stroke": COLOURS.get(role, LESION_COLOUR), "strokeWidth": stroke_width, "fill": ROI_FILL}
        if isinstance(roi, Rect):
            left, top = view.to_canvas(roi.x, roi.y)
            objects.append(
                common
                | {
                    "type": "rect",
                    "originX": "left",
                    "originY": "top",
                    "left": left,
                    "top": top,
                    "width": roi.w * scale,
                    "height": roi.h * scale,
                    "scaleX": 1,
                    "scaleY": 1,
                }
            )
        elif isinstance(roi, Ellipse):
            cx, cy = view.to_canvas(roi.cx, roi.cy)
            objects.append(
                common
                | {
                    "type": "circle",
                    "originX": "center",
                    "originY": "center",
                    "left": cx,
                    "top": cy,
                    "radius": roi.rx * scale,
                    "scaleX": 1,
                    "scaleY": roi.ry / roi.rx,
                }
            )
        else:
            points = [dict(zip("xy", view.to_canvas(x, y), strict=True)) for x, y in roi.points]
            objects.append(common | {"type": "polygon", "originX": "left", "points": points})
    for role, segment in (lines or {}).items():
        (u1, v1), (u2, v2) = view.to_canvas(*segment.start), view.to_canvas(*segment.end)
        cx, cy = (u1 + u2) / 2, (v1 + v2) / 2
        objects.append(
            {
                "type": "line",
                "stroke": COLOURS.get(role, CALIPER_COLOUR),
                "strokeWidth": stroke_width,
                "originX": "center",
                "originY": "center",
                "left": cx,
                "top": cy,
                "width": abs(u2 - u1),
                "height": abs(v2 - v1),
                "x1": u1 - cx,
                "y1": v1 - cy,
                "x2": u2 - cx,
                "y2": v2 - cy,
            }
        )
    return {"version": "6.0.0", "objects": objects}
