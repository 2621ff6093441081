"""The reading copy of a large image: its size, its mean, and the pixel spacing that goes with it."""

import numpy as np
import pytest

from usegan.downscale import READING_MAX_SIDE, reading_copy, scaled_spacing


def test_a_small_image_is_kept_as_it_is():
    image = np.zeros((300, 400), np.uint8)
    small, factor = reading_copy(image)
    assert small is image and factor == 1.0


def test_a_large_image_is_shrunk_to_the_reading_size_keeping_its_aspect_and_mean():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (3000, 6000), dtype=np.uint8)
    small, factor = reading_copy(image)
    assert small.shape == (512, READING_MAX_SIDE) and factor == pytest.approx(1024 / 6000)
    assert small.mean() == pytest.approx(image.mean(), abs=0.5)
    rgb, _ = reading_copy(np.zeros((2048, 1024, 3), np.uint8))
    assert rgb.shape == (1024, 512, 3)


def test_the_spacing_grows_as_the_pixels_get_fewer():
    assert scaled_spacing((0.05, 0.05), 0.25) == pytest.approx((0.2, 0.2))
    assert scaled_spacing(None, 0.5) is None


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="uint8"):
        reading_copy(np.zeros((10, 10), np.float32))


def test_intake_stores_the_reading_copy_with_its_spacing_and_keeps_the_original(tmp_path):
    from tests.intake_fixtures import pixels_dicom
    from usegan.intake.pipeline import Intake
    from usegan.settings import get_settings
    from usegan.store import open_store

    capture = np.random.default_rng(1).integers(0, 255, (1600, 2400), dtype=np.uint8)
    data = pixels_dicom(capture, region=(0, 0, 2400, 1600), delta_cm=(0.005, 0.005))  # 0.05 mm pixels
    settings = get_settings()
    with open_store(settings) as store:
        intake = Intake(store, settings)
        case = store.get_case(intake.create_case(intake.read(data, "large.dcm"), user="doc"))
        assert (case.height, case.width) == (683, 1024) and case.bmode().shape == (683, 1024)
        assert case.pixel_spacing_mm == pytest.approx((0.05 * 2400 / 1024,) * 2)
        assert case.original_bytes() == data  # the file as received is kept
