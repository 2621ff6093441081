"""The reading tools on a window around the ROIs (services.windows, what keeps a 36 MP case fast) give what they
give on the whole image: every mask, size, E/B ratio, strain ratio, Q-box (Emax position included), confidence and
refusal, for ROIs anywhere (edges and outside included), both modes, with and without a pixel spacing."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import usegan.services.reading as reading
from usegan.colormaps import colormap_for
from usegan.scoring.geometry import PixelSpacing
from usegan.scoring.roi import Ellipse, Polygon, Rect
from usegan.services.windows import around
from usegan.ui.roi_canvas import Marks, Segment


def _elastogram(mode: str, shape=(300, 260), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cmap = colormap_for(mode)
    field = np.kron(rng.uniform(0, 1, (shape[0] // 10, shape[1] // 10)), np.ones((10, 10)))[: shape[0], : shape[1]]
    field[100:160, 90:170] *= 0.15  # a stiff lesion
    out = cmap.apply(cmap.vmin + field * (cmap.vmax - cmap.vmin))
    out[:, :6] = 128  # a gray strip outside the colour box
    return out


def _same(a, b, path="") -> None:
    if isinstance(a, np.ndarray):
        assert np.array_equal(a, b, equal_nan=True), path
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _same(a[key], b[key], f"{path}[{key}]")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


LESIONS = [
    Rect(90, 100, 80, 60),
    Rect(-10, 250, 60, 80),  # over a corner
    Rect(230, 5, 40, 30),
    Polygon(((100.5, 90.2), (170.7, 110.0), (150.3, 170.9), (95.0, 150.4))),
    Rect(120, 120, 0, 5),  # zero area
    Rect(400, 400, 10, 10),  # outside
]
OTHERS = [
    {},
    {"reference": Ellipse(30.37, 130.0, 9.5, 9.5)},
    {"reference": Ellipse(130.0, 130.0, 9.0, 9.0)},  # overlaps the lesion
    {"qbox": Ellipse(120.2, 128.7, 6.0, 6.0), "reference": Ellipse(220.5, 40.0, 5.0, 7.0)},
    {"qbox": Ellipse(258.0, 298.0, 6.0, 6.0)},  # at the far corner
]


@pytest.mark.parametrize("mode", ["strain", "swe"])
@pytest.mark.parametrize("spacing", [None, PixelSpacing.of((0.1, 0.12), "test")])
def test_reading_on_the_window_equals_reading_on_the_whole_image(mode, spacing, monkeypatch):
    elasto = _elastogram(mode)
    sd = np.random.default_rng(1).uniform(0, 0.2, elasto.shape[:2]).astype(np.float32)
    caliper = {"caliper": Segment((10.0, 20.0), (200.5, 210.0))}
    windowed = 0
    for lesion in LESIONS:
        for others in OTHERS:
            marks = Marks(rois={"lesion": lesion, **others}, lines=caliper)
            fast = reading.read(elasto, mode, None, marks, spacing, 3.0, 2.0, sd)
            with monkeypatch.context() as patch:
                patch.setattr(reading, "around", lambda rois, shape: None)  # the whole image
                whole = reading.read(elasto, mode, None, marks, spacing, 3.0, 2.0, sd)
            _same(fast, whole, f"{lesion} {others}")
            windowed += around(fast.rois, elasto.shape[:2]) is not None
    assert windowed >= 10  # most cases really ran on a window


@pytest.mark.parametrize("width", [1, 2, 5])
def test_roi_outlines_drawn_on_the_masks_box_equal_those_drawn_on_the_whole_image(width):
    from scipy import ndimage

    from usegan.ui.overlay import outline

    rng = np.random.default_rng(width)
    image = rng.integers(0, 255, (120, 100, 3), dtype=np.uint8)
    for y, x, h, w in ((10, 10, 30, 40), (-5, 70, 50, 60), (100, -3, 40, 20), (0, 0, 120, 100)):
        lesion = np.zeros((120, 100), bool)
        lesion[max(0, y) : y + h, max(0, x) : x + w] = True
        specks = rng.uniform(0, 1, (120, 100)) < 0.02
        drawn = outline(image, {"lesion": lesion, "reference": specks}, {"lesion": "#ffd400", "reference": "#00ffff"},
                        width)  # fmt: skip
        expected = image.copy()
        for mask, colour in ((lesion, (255, 212, 0)), (specks, (0, 255, 255))):
            expected[mask & ~ndimage.binary_erosion(mask, iterations=width)] = colour
        assert np.array_equal(drawn, expected)


def test_the_reading_says_how_large_the_lesion_is_in_the_frame():
    elasto = _elastogram("strain")  # 300 x 260: the frame's shorter side is 260 px
    framed = reading.read(elasto, "strain", None, Marks(rois={"lesion": Rect(90, 100, 80, 60)}), None)
    assert framed.framing.fraction == pytest.approx(80 / 260, abs=0.01) and not framed.framing.caution
    small = reading.read(elasto, "strain", None, Marks(rois={"lesion": Rect(120, 120, 40, 30)}), None)
    assert small.framing.fraction == pytest.approx(40 / 260, abs=0.01) and small.framing.caution
    assert (
        reading.read(elasto, "swe", None, Marks(rois={"qbox": Ellipse(120.2, 128.7, 6.0, 6.0)}), None).framing is None
    )
