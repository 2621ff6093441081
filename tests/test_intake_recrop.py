"""Re-cropping keeps a reader's calibration true: the mm per pixel follow the stored B-mode's new scale."""

from __future__ import annotations

import numpy as np
import pytest

from tests.intake_fixtures import png_bytes
from usegan.intake.pipeline import Intake
from usegan.screencrop import CropBox
from usegan.settings import get_settings
from usegan.store import open_store


@pytest.fixture
def store():
    with open_store(get_settings()) as opened:
        yield opened


def test_a_user_calibration_follows_the_reading_copy_scale_through_a_recrop(store):
    intake = Intake(store)
    big = np.random.default_rng(0).integers(0, 255, (1200, 2048), dtype=np.uint8)  # stored at half size
    case_id = intake.create_case(intake.read(png_bytes(big), "big.png"), user="doc", crop=CropBox.full(1200, 2048))
    assert (store.get_case(case_id).height, store.get_case(case_id).width) == (600, 1024)
    store.set_pixel_spacing(case_id, (0.2, 0.2), "user", by="doc")  # 0.2 mm per stored pixel = 0.1 per original
    intake.recrop(case_id, CropBox(0, 0, 800, 600), user="doc", reason="lesion area only")  # stored at full size
    case = store.get_case(case_id)
    assert (case.height, case.width) == (600, 800) and case.spacing_source == "user"
    assert case.pixel_spacing_mm == pytest.approx((0.1, 0.1))
    intake.recrop(case_id, CropBox(10, 0, 800, 600), user="doc")  # another area at the same scale: unchanged
    assert store.get_case(case_id).pixel_spacing_mm == pytest.approx((0.1, 0.1))
