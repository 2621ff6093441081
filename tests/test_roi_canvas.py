"""usegan.ui.roi_canvas: canvas drawings (rectangles, polygons, free-hand paths, circles, caliper lines) to image
ROIs through the display scale and zoom, stroke roles, and the JSON round trip."""

from __future__ import annotations

import numpy as np

from usegan.scoring import Polygon, Rect
from usegan.scoring.roi import Ellipse
from usegan.ui import roi_canvas


# --- canvas ROIs ---------------------------------------------------------------------------------------------
def test_rect_from_canvas_is_divided_by_the_display_scale():
    obj = {"type": "rect", "left": 20, "top": 10, "width": 40, "height": 30, "scaleX": 1.5, "scaleY": 1,
           "stroke": roi_canvas.LESION_COLOUR}  # fmt: skip
    assert roi_canvas.object_to_roi(obj, 2.0) == Rect(10, 5, 30, 15)


def test_moved_polygon_points_follow_its_transform():
    points = [{"x": 10, "y": 10}, {"x": 50, "y": 10}, {"x": 30, "y": 40}]
    still = {"type": "polygon", "points": points}
    moved = still | {
        "left": 109,
        "top": 9,
        "width": 40,
        "height": 30,
        "strokeWidth": 2,
        "pathOffset": {"x": 30, "y": 25},
    }  # fmt: skip  (left = 100 + minX - stroke / 2)
    assert roi_canvas.object_to_roi(still, 1.0).points == ((10, 10), (50, 10), (30, 40))
    assert roi_canvas.object_to_roi(moved, 1.0).points == ((110, 10), (150, 10), (130, 40))


def test_freehand_path_becomes_a_closed_polygon_in_image_pixels():
    path = [["M", 0, 0], ["Q", 5, 5, 10, 0], ["L", 10, 10], ["L", 0, 10], ["z"]]
    roi = roi_canvas.object_to_roi({"type": "path", "path": path}, 0.5)
    assert isinstance(roi, Polygon) and roi.points == ((0, 0), (20, 0), (20, 20), (0, 20))


def test_roles_come_from_the_stroke_colour_and_the_newest_wins():
    objects = [
        {"type": "rect", "left": 0, "top": 0, "width": 10, "height": 10, "stroke": roi_canvas.LESION_COLOUR},
        {"type": "rect", "left": 5, "top": 5, "width": 10, "height": 10, "stroke": roi_canvas.LESION_COLOUR},
        {"type": "rect", "left": 1, "top": 1, "width": 4, "height": 4, "stroke": roi_canvas.REFERENCE_COLOUR},
        {"type": "rect", "left": 1, "top": 1, "width": 4, "height": 4, "stroke": "#000000"},
        {"type": "text", "left": 1, "top": 1, "text": "x", "stroke": roi_canvas.LESION_COLOUR},
    ]
    rois = roi_canvas.rois_from_canvas({"objects": objects}, 1.0)
    assert rois == {"lesion": Rect(5, 5, 10, 10), "reference": Rect(1, 1, 4, 4)}


def test_point_circle_and_caliper_line_from_a_zoomed_canvas():
    view = roi_canvas.viewport((100, 200), base_scale=2.0, zoom=2.0, centre=(0.5, 0.5))
    assert (view.scale, view.x0, view.y0, view.width, view.height) == (4.0, 50.0, 25.0, 400, 200)
    # the point tool: origin left/center, left = x - (radius + stroke / 2)
    point = {"type": "circle", "left": 200 - 11, "top": 100, "radius": 10, "strokeWidth": 2, "originX": "left",
             "originY": "center", "stroke": roi_canvas.QBOX_COLOUR}  # fmt: skip
    line = {"type": "line", "left": 100, "top": 100, "width": 80, "height": 0, "originX": "center",
            "originY": "center", "x1": -40, "y1": 0, "x2": 40, "y2": 0,
            "stroke": roi_canvas.CALIPER_COLOUR}  # fmt: skip
    marks = roi_canvas.marks_from_canvas({"objects": [point, line, point]}, view)
    assert marks.rois["qbox"] == Ellipse(100.0, 50.0, 2.5, 2.5)  # canvas (200, 100) / 4 + (50, 25)
    assert marks.lines["caliper"] == roi_canvas.Segment((65.0, 50.0), (85.0, 50.0))
    assert marks.lines["caliper"].length_px == 20.0
    assert marks.counts == {"qbox": 2, "caliper": 1} and marks.stale
    drawing = roi_canvas.rois_to_drawing(marks.rois | {"lesion": Rect(60, 30, 20, 10)}, view, lines=marks.lines)
    again = roi_canvas.marks_from_canvas(drawing, view)
    assert again.rois == marks.rois | {"lesion": Rect(60, 30, 20, 10)} and again.lines == marks.lines
    assert not again.stale
    assert view.background(np.zeros((100, 200, 3), np.uint8)).size == (400, 200)


def test_rois_round_trip_through_json_and_the_canvas_drawing():
    rois = {"lesion": Rect(3, 4, 10, 8), "reference": Polygon(((1.0, 1.0), (6.0, 1.0), (3.0, 5.0)))}
    assert roi_canvas.rois_from_json(roi_canvas.rois_to_json(rois)) == rois
    drawing = roi_canvas.rois_to_drawing(rois, 2.0)
    assert roi_canvas.rois_from_canvas(drawing, 2.0) == rois
    masks = roi_canvas.roi_masks(rois | {"lesion": Rect(500, 500, 4, 4)}, (20, 20))
    assert set(masks) == {"reference"}  # an ROI outside the image is dropped, not raised
