"""usegan.ui.overlay: the review screen's overlay of coloured pixels and the label strip under an image."""

from __future__ import annotations

import numpy as np
import pytest

from usegan.ui import overlay


# --- overlay and figures -----------------------------------------------------------------------------------
def test_overlay_blends_only_coloured_pixels():
    bmode = np.full((4, 4), 100, np.uint8)
    elasto = np.stack([bmode] * 3, -1).copy()
    elasto[:2] = (0, 0, 255)
    out = overlay.overlay(bmode, elasto, 0.5)
    assert tuple(out[0, 0]) == (50, 50, 178) and tuple(out[3, 3]) == (100, 100, 100)
    assert np.array_equal(overlay.overlay(bmode, elasto, 0.0)[..., 0], bmode)
    with pytest.raises(ValueError, match="opacity"):
        overlay.overlay(bmode, elasto, 1.5)


def test_stamp_adds_a_label_strip_below_and_keeps_every_image_pixel():
    image = np.full((190, 133, 3), 77, np.uint8)
    out = overlay.stamp(image, "VIRTUAL - usegan-strain-v1")
    assert out.shape[0] > 190 and out.shape[1:] == (133, 3)
    assert np.array_equal(out[:190], image)  # nothing painted over the elastogram (the fat layer lies on top)
    assert out[190:].max() > 200  # the white text is in the strip
