"""usegan.services.intake: an upload with a crop becomes a case of the cropped gray image."""

# ruff: noqa: F811
from __future__ import annotations

import numpy as np

from tests.service_fixtures import env  # noqa: F401  (fixture)
from usegan.services import intake


def test_upload_with_a_crop_stores_the_cropped_gray_image(env):
    store, _ = env
    import io

    from PIL import Image

    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[10:50, 20:70] = np.random.default_rng(0).integers(0, 255, (40, 50, 1))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    preview = intake.read_upload(buffer.getvalue(), "scan.png")
    assert preview.n_frames == 1 and preview.width == 80
    from usegan.screencrop import CropBox

    case_id = intake.create_upload_case(store, preview, buffer.getvalue(), crop=CropBox(20, 10, 50, 40),
                                        organ="thyroid", user="doc", notes="n")  # fmt: skip
    case = store.get_case(case_id)
    assert case.bmode().shape == (40, 50) and case.crop == [20, 10, 50, 40] and case.original_name == "scan.png"
