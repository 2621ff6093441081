"""The review page's proposal is computed on a window around the ROIs (services.service.scoring_window): on a large
reading copy this is what keeps an ROI re-score fast. It must give the proposal of the whole image, figure for
figure, whatever the ROI shapes, their place (edges included), the mode and the organ."""

from __future__ import annotations

import json

import numpy as np
import pytest

from usegan.colormaps import Colormap, colormap_for
from usegan.scoring import propose
from usegan.scoring.roi import Ellipse, Polygon, Rect
from usegan.services.service import score_rois, scoring_window


def _elastogram(mode: str, shape=(300, 260), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cmap = colormap_for(mode)
    smooth = rng.uniform(0, 1, (shape[0] // 10, shape[1] // 10))
    field = np.kron(smooth, np.ones((10, 10)))[: shape[0], : shape[1]]
    field[100:160, 90:170] *= 0.2  # a stiffer blob
    return cmap.apply(cmap.vmin + field * (cmap.vmax - cmap.vmin))


def _same(a, b) -> bool:
    return json.dumps(a.to_dict(), sort_keys=True, default=str) == json.dumps(b.to_dict(), sort_keys=True, default=str)


LESIONS = [
    Rect(90, 100, 80, 60),
    Rect(-10, 250, 60, 80),  # over the bottom-left corner: clipped the same way
    Rect(230, 5, 40, 30),  # over the right edge
    Polygon(((100.5, 90.2), (170.7, 110.0), (150.3, 170.9), (95.0, 150.4))),
    Rect(120, 120, 2, 2),  # too small: the scorer's own refusal
    Rect(400, 400, 10, 10),  # outside the image
]
REFERENCES = [None, Ellipse(30.37, 130.0, 9.5, 9.5), Rect(10, 5, 60, 12), Ellipse(255.2, 20.1, 12.0, 8.0)]


@pytest.mark.parametrize(("mode", "organ"), [("strain", "breast"), ("strain", "thyroid"), ("swe", "breast"),
                                             ("swe", "liver")])  # fmt: skip
def test_the_windowed_proposal_equals_the_whole_image_proposal(mode, organ):
    elasto = _elastogram(mode)
    cmap = Colormap.from_scale(mode, None)
    for lesion in LESIONS:
        for reference in REFERENCES:
            rois = {"lesion": lesion} | ({} if reference is None else {"reference": reference})
            whole = propose(elasto, mode, lesion, reference, organ=organ, colormap=cmap)
            assert _same(score_rois(elasto, mode, None, rois, organ), whole), (lesion, reference)


def test_the_window_is_small_for_a_small_roi_on_a_large_image():
    elasto = _elastogram("strain", (1024, 1024))
    window, lesion, reference = scoring_window(elasto, Rect(500, 500, 60, 40), Ellipse(200.0, 520.0, 10.0, 10.0))
    assert window.shape[0] < 120 and window.shape[1] < 400
    assert (lesion.x, lesion.y) != (500, 500) and reference.cx < 200
    mask = np.zeros((1024, 1024), bool)
    assert scoring_window(elasto, mask, None)[0] is elasto  # a mask ROI: the whole image
