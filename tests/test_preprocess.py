"""The preprocessing pipeline: dispatch, crop choices, model input, and ROI / mask round trips."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.dicom_factory import dicom_bytes, expected_pixels, make_us_dataset, make_us_dicom
from tests.test_screencrop import screen_capture
from usegan.dicomio import DicomReadError
from usegan.imageio import ImageLoadError
from usegan.preprocess import Prepared, is_dicom, prepare, read_image
from usegan.screencrop import CropBox, InvalidCropError


def disc_image(height=300, width=500, centre=(340, 180), radius=25):
    """Gray uint8 image: dim gradient background with one bright disc at ``centre`` (x, y)."""
    yy, xx = np.mgrid[0:height, 0:width]
    image = (30 + 40 * xx / width).astype(np.uint8)
    disc = (xx + 0.5 - centre[0]) ** 2 + (yy + 0.5 - centre[1]) ** 2 <= radius**2
    image[disc] = 250
    return image, disc


def test_read_image_dispatches_dicom_by_magic_and_suffix(tmp_path):
    ds = make_us_dataset(frames=2)
    odd_name = tmp_path / "export.bin"
    odd_name.write_bytes(dicom_bytes(ds))
    assert is_dicom(odd_name) and is_dicom(dicom_bytes(ds)) and is_dicom(ds)
    np.testing.assert_array_equal(read_image(odd_name, frame=1), expected_pixels(frames=2)[1])
    np.testing.assert_array_equal(read_image(dicom_bytes(ds)), expected_pixels(frames=2)[0])
    dcm = make_us_dicom(tmp_path / "a.dcm", photometric="RGB")
    assert read_image(dcm).shape == (48, 64, 3)


def test_read_image_raster_and_errors(tmp_path):
    png = tmp_path / "scan.png"
    Image.fromarray(np.full((20, 30), 7, np.uint8)).save(png)
    assert not is_dicom(png)
    assert read_image(png).shape == (20, 30)
    fake = tmp_path / "fake.dcm"  # the suffix says DICOM: the reader says why it is not
    fake.write_bytes(png.read_bytes())
    with pytest.raises(DicomReadError, match=r"fake\.dcm: not a DICOM file"):
        read_image(fake)
    with pytest.raises(ImageLoadError, match="frame index 1 out of range"):
        read_image(png, frame=1)


def test_read_image_uses_max_pixels_setting(monkeypatch, tmp_path):
    png = tmp_path / "big.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(png)
    monkeypatch.setenv("USEGAN_MAX_IMAGE_PIXELS", "5000")
    with pytest.raises(ImageLoadError, match="over the limit of 5,000"):
        read_image(png)
    assert read_image(png, max_pixels=10_000).shape == (100, 100)


def test_prepare_whole_image_shapes_and_padding():
    image, _ = disc_image()
    prep = prepare(image, size=64)
    assert isinstance(prep, Prepared)
    assert prep.model_input.shape == (64, 64) and prep.model_input.dtype == np.float32
    assert 0.0 <= prep.model_input.min() and prep.model_input.max() <= 1.0
    assert prep.crop == CropBox(0, 0, 500, 300) and prep.suggestion is None
    valid = prep.valid_mask()
    # 500x300 -> 64x38 inside a 64x64 square: padding rows above and below are zero
    assert valid.sum() == 64 * 38 and not prep.model_input[~valid].any()
    assert prep.model_input[valid].min() > 0.1


def test_prepare_accepts_path_with_frame(tmp_path):
    path = make_us_dicom(tmp_path / "cine.dcm", frames=3, photometric="RGB")
    first, last = prepare(path, size=32), prepare(path, size=32, frame=2)
    assert first.source_shape == (48, 64)
    want = prepare(expected_pixels(frames=3, colour=True)[2], size=32).model_input
    np.testing.assert_allclose(last.model_input, want, atol=1e-6)
    assert not np.allclose(first.model_input, want, atol=1e-3)


def test_prepare_auto_crop_on_a_screen_capture():
    capture, true = screen_capture(np.random.default_rng(3), (480, 640), (150, 70, 380, 320))
    prep = prepare(capture, size=64, crop="auto")
    assert prep.suggestion is not None and prep.crop == prep.suggestion.box
    assert prep.crop.iou(true) > 0.9
    # the user overrides the suggestion with their own box
    override = prepare(capture, size=64, crop=(true.x, true.y, true.w, true.h))
    assert override.crop == true and override.suggestion is None


@pytest.mark.parametrize(
    ("crop", "error", "message"),
    [
        (CropBox(10, 10, 0, 50), InvalidCropError, r"scan\.png: crop .* zero size"),
        ((10, 10, 50, 0), InvalidCropError, "zero size"),
        (CropBox(480, 10, 50, 50), InvalidCropError, r"scan\.png: crop .* not inside the 500x300 image"),
        (CropBox(-10, 0, 50, 50), InvalidCropError, "not inside"),
        (CropBox(0, 0, 4, 40), InvalidCropError, "at least 8x8"),
        ((1, 2, 3), InvalidCropError, "four integers"),
        ((1.5, 2, 30, 30), InvalidCropError, "four integers"),
        ("middle", ValueError, "crop must be None, 'auto'"),
    ],
)
def test_bad_crops_are_clear_errors(crop, error, message):
    image, _ = disc_image()
    with pytest.raises(error, match=message):
        prepare(image, size=64, crop=crop, name="scan.png")


def test_bad_arrays_are_refused():
    with pytest.raises(ImageLoadError, match="at least 8x8"):
        prepare(np.zeros((1, 1), np.uint8))
    with pytest.raises(ImageLoadError, match="expected"):
        prepare(np.zeros((10, 10, 2), np.uint8))


def test_roi_round_trip_finds_the_same_anatomy():
    """A disc at a known place in a non-square original with a crop: the ROI drawn on the model image (around
    the bright blob seen there) maps back onto the disc in the original."""
    image, disc = disc_image(300, 500, centre=(340, 180), radius=25)
    crop = CropBox(100, 40, 350, 240)
    prep = prepare(image, size=64, crop=crop)
    blob = prep.model_input > 0.8
    assert blob.any()
    rows, cols = np.nonzero(blob)
    centre_model = np.array([cols.mean() + 0.5, rows.mean() + 0.5])
    # the centre maps back to the disc centre, and forward again to the same model point
    centre_source = prep.roi_to_source(centre_model)
    assert np.linalg.norm(centre_source - [340, 180]) < 2.0
    np.testing.assert_allclose(prep.roi_to_model(centre_source), centre_model, atol=1e-9)
    # a polygon ROI drawn around the blob in model space encloses the disc in the original
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    radius_model = 25 * prep.letterbox.scale * 1.3
    polygon = centre_model + radius_model * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    polygon_source = prep.roi_to_source(polygon)
    distances = np.linalg.norm(polygon_source - [340, 180], axis=1)
    assert distances.min() > 25 and distances.max() < 40
    # the model-space mask maps back onto the disc
    mask_source = prep.mask_to_source(blob)
    assert mask_source.shape == image.shape
    overlap = (mask_source & disc).sum()
    assert overlap / disc.sum() > 0.85 and overlap / (mask_source | disc).sum() > 0.75
    # and the original disc mask maps onto the model blob
    mask_model = prep.mask_to_model(disc)
    assert (mask_model & blob).sum() / (mask_model | blob).sum() > 0.75


def test_image_to_source_places_output_on_the_crop():
    image, _ = disc_image()
    prep = prepare(image, size=32, crop=CropBox(100, 40, 350, 240))
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[prep.valid_mask()] = (200, 10, 10)
    back = prep.image_to_source(rgb, fill=0)
    assert back.shape == (300, 500, 3) and back.dtype == np.uint8
    assert (back[40:280, 100:450, 0] > 150).mean() > 0.95
    assert not back[:40].any() and not back[:, :100].any() and not back[:, 450:].any()


def test_mask_shape_errors():
    image, _ = disc_image()
    prep = prepare(image, size=32)
    with pytest.raises(ValueError, match="32x32"):
        prep.mask_to_source(np.zeros((10, 10), bool))
    with pytest.raises(ValueError, match="original shape"):
        prep.mask_to_model(np.zeros((10, 10), bool))


def test_rgba_and_16_bit_inputs_become_gray_in_range():
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 255
    prep = prepare(rgba, size=16)
    assert prep.model_input.max() == pytest.approx(0.299, abs=0.01)
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 60), 65535, np.uint16)).save(buffer, format="PNG")
    assert prepare(buffer.getvalue(), size=16).model_input.max() == pytest.approx(1.0)
