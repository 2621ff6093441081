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
is drawn in :data:`LESION_COLOUR`, the reference (fat) ROI in :data:`REFERENCE_COLOUR`; the newest of each wins.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from usegan.scoring.roi import Polygon, Rect, RoiError, roi_from_dict, roi_to_mask

LESION_COLOUR = "#ffd400"  # yellow outline: the lesion / Q-box ROI
REFERENCE_COLOUR = "#00e5ff"  # cyan outline: the reference (fat) ROI
ROI_FILL = "rgba(255, 255, 255, 0.08)"  # almost transparent, so the colours underneath stay readable
ROLES = ("lesion", "reference")


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


def object_to_roi(obj: dict[str, Any], scale: float) -> Rect | Polygon:
    """One Fabric.js object -> a :class:`Rect` or :class:`Polygon` in image pixels.

    ``scale``: canvas pixels per image pixel (> 0). Raises :class:`RoiError` for shapes that cannot be an ROI.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    kind = str(obj.get("type", "")).lower()
    if kind == "rect":
        width = float(obj.get("width", 0.0)) * float(obj.get("scaleX", 1.0))
        height = float(obj.get("height", 0.0)) * float(obj.get("scaleY", 1.0))
        left = _origin_centre(obj, "x", width) - width / 2
        top = _origin_centre(obj, "y", height) - height / 2
        x0, y0 = round(left / scale), round(top / scale)
        x1, y1 = round((left + width) / scale), round((top + height) / scale)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))
    if kind == "polygon":
        raw = np.array([(float(p["x"]), float(p["y"])) for p in obj.get("points", [])], dtype=np.float64)
        points = _transformed_points(obj, raw.reshape(-1, 2))
    elif kind == "path":
        points = _transformed_points(obj, _path_points(obj.get("path", [])))
    else:
        raise RoiError(f"a {kind or 'unknown'} shape cannot be an ROI: draw a rectangle, polygon or free-hand outline")
    if len(points) < 3:
        raise RoiError(f"an outline needs at least 3 points, got {len(points)}")
    return Polygon(tuple((round(x / scale, 2), round(y / scale, 2)) for x, y in points))


def _role_of(obj: dict) -> str | None:
    stroke = str(obj.get("stroke", "")).lower()
    if stroke == LESION_COLOUR:
        return "lesion"
    if stroke == REFERENCE_COLOUR:
        return "reference"
    return None


def rois_from_canvas(json_data: dict | None, scale: float) -> dict[str, Rect | Polygon]:
    """``{"lesion": roi, "reference": roi}`` (either may be absent) from a canvas's ``json_data``.

    Objects of another colour, and shapes that cannot be ROIs (a stray click), are ignored.
    """
    found: dict[str, Rect | Polygon] = {}
    for obj in (json_data or {}).get("objects", []) or []:
        role = _role_of(obj)
        if role is None:
            continue
        try:
            found[role] = object_to_roi(obj, scale)
        except RoiError:
            continue
    return found


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


def rois_to_drawing(rois: dict[str, Rect | Polygon], scale: float, stroke_width: int = 2) -> dict:
    """ROIs in image pixels -> a canvas ``initial_drawing`` (so a saved review's ROIs show again)."""
    objects = []
    for role, roi in rois.items():
        colour = LESION_COLOUR if role == "lesion" else REFERENCE_COLOUR
        common = {"stroke": colour, "strokeWidth": stroke_width, "fill": ROI_FILL, "originX": "left"}
        if isinstance(roi, Rect):
            objects.append(
                common
                | {
                    "type": "rect",
                    "originY": "top",
                    "left": roi.x * scale,
                    "top": roi.y * scale,
                    "width": roi.w * scale,
                    "height": roi.h * scale,
                    "scaleX": 1,
                    "scaleY": 1,
                }
            )
        else:
            points = [{"x": x * scale, "y": y * scale} for x, y in roi.points]
            objects.append(common | {"type": "polygon", "points": points})
    return {"version": "6.0.0", "objects": objects}
