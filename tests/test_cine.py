"""Cine: every frame of a multi-frame original, cropped like the case's B-mode, as a looping clip."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.dicom_factory import dicom_bytes, expected_pixels, make_us_dataset
from usegan.intake.pipeline import Intake
from usegan.services.cine import cine_frames, cine_gif, frame_count
from usegan.settings import get_settings
from usegan.store import open_store


@pytest.fixture
def store():
    with open_store(get_settings()) as opened:
        yield opened


def test_a_three_frame_dicom_plays_its_three_frames_cropped_like_the_case(store):
    data = dicom_bytes(make_us_dataset(frames=3))
    intake = Intake(store, get_settings())
    case = store.get_case(intake.create_case(intake.read(data, "loop.dcm"), user="doc"))
    assert frame_count(case) == 3
    frames = cine_frames(case)
    assert len(frames) == 3 and all(f.shape == (case.height, case.width) for f in frames)
    truth = expected_pixels(frames=3)
    x, y, w, h = case.crop
    assert not np.array_equal(frames[0], frames[1])  # the frames differ, as in the file
    assert np.abs(frames[2].astype(int) - truth[2][y : y + h, x : x + w]).max() <= 1
    clip = Image.open(io.BytesIO(cine_gif(frames, fps=5)))
    assert clip.n_frames == 3 and clip.info["duration"] == 200


def test_a_single_frame_case_has_no_cine(store):
    data = dicom_bytes(make_us_dataset(frames=1))
    intake = Intake(store, get_settings())
    case = store.get_case(intake.create_case(intake.read(data, "one.dcm"), user="doc"))
    assert frame_count(case) == 1
    with pytest.raises(ValueError, match="single frame"):
        cine_frames(case)
