"""DICOM reading: every photometric / compression / frame combination, metadata, and each bad-input case."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.encaps import encapsulate

from tests.dicom_factory import dicom_bytes, expected_pixels, make_us_dataset, make_us_dicom
from usegan.dicomio import DicomReadError, is_dicom_bytes, read_dicom
from usegan.imageio import ImageLoadError

CASES = [
    ("MONOCHROME2", None, 0),
    ("MONOCHROME1", None, 0),
    ("RGB", None, 0),
    ("YBR_FULL", None, 1),  # YBR -> RGB conversion rounds by one level
    ("YBR_FULL_422", None, 1),
    ("MONOCHROME2", "rle", 0),
    ("MONOCHROME1", "rle", 0),
    ("RGB", "rle", 0),
    ("YBR_FULL", "rle", 1),
    ("MONOCHROME2", "jpeg", None),  # lossy: compared by mean error
    ("YBR_FULL_422", "jpeg", None),
]


@pytest.mark.parametrize("frames", [1, 3])
@pytest.mark.parametrize(("photometric", "compress", "max_error"), CASES)
def test_reads_every_frame_of_every_format(tmp_path, frames, photometric, compress, max_error):
    path = make_us_dicom(tmp_path / "a.dcm", frames=frames, photometric=photometric, compress=compress)
    colour = photometric not in ("MONOCHROME1", "MONOCHROME2")
    expected = expected_pixels(frames=frames, colour=colour).astype(int)
    for frame in range(frames):
        image = read_dicom(path, frame=frame)
        assert image.n_frames == frames and image.frame == frame
        assert image.pixels.shape == ((48, 64, 3) if colour else (48, 64))
        assert image.pixels.dtype == np.uint8
        error = np.abs(image.pixels.astype(int) - expected[frame])
        if max_error is None:
            assert error.mean() < 4.0, f"frame {frame}: mean error {error.mean():.2f}"
        else:
            assert error.max() <= max_error, f"frame {frame}: max error {error.max()}"
        # the frame really is the requested one: frames differ by a shift of 37 gray levels
        if frames > 1:
            other = expected[(frame + 1) % frames]
            assert np.abs(image.pixels.astype(int) - other).mean() > 10


@pytest.mark.parametrize("bits", [12, 16])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_16_bit_gray_is_stretched_to_full_range(tmp_path, bits, photometric):
    image = read_dicom(make_us_dicom(tmp_path / "b.dcm", bits_stored=bits, photometric=photometric))
    assert image.pixels.dtype == np.uint16 and image.bits_stored == bits
    as_8bit = image.pixels.astype(np.float64) / 65535 * 255
    assert np.abs(as_8bit - expected_pixels()[0]).max() < 1.0


def test_metadata_regions_and_spacing(tmp_path):
    ds = make_us_dataset(frames=2, patient_id="PID-7")
    image = read_dicom(dicom_bytes(ds), frame=1)
    assert image.modality == "US"
    assert image.sop_class_uid == "1.2.840.10008.5.1.4.1.1.3.1"  # US multi-frame
    assert image.sop_instance_uid == ds.SOPInstanceUID
    assert image.study_instance_uid == ds.StudyInstanceUID
    assert image.series_instance_uid == ds.SeriesInstanceUID
    assert image.patient_id == "PID-7" and image.accession_number == "ACC42" and image.study_date == "20260101"
    assert image.photometric == "MONOCHROME2"
    assert image.transfer_syntax_uid == "1.2.840.10008.1.2.1"
    assert image.pixel_spacing_mm == pytest.approx((0.1, 0.1))  # 0.01 cm per pixel in the US region
    (region,) = image.regions
    assert (region.x0, region.y0, region.x1, region.y1) == (4, 2, 59, 45)
    box = image.image_region()
    assert (box.x, box.y, box.w, box.h) == (4, 2, 56, 44)


def test_pixel_spacing_tag_wins_and_no_regions(tmp_path):
    ds = make_us_dataset(with_regions=False)
    ds.PixelSpacing = [0.2, 0.25]
    image = read_dicom(ds)
    assert image.pixel_spacing_mm == pytest.approx((0.2, 0.25))
    assert image.regions == () and image.image_region() is None


def test_dataset_and_bytes_inputs_match_file(tmp_path):
    ds = make_us_dataset(photometric="RGB")
    from_ds = read_dicom(ds).pixels
    from_bytes = read_dicom(dicom_bytes(ds)).pixels
    np.testing.assert_array_equal(from_ds, from_bytes)
    assert is_dicom_bytes(dicom_bytes(ds)[:132]) and not is_dicom_bytes(b"\x89PNG" + b"\0" * 200)


@pytest.mark.parametrize("modality", ["OT"])
def test_secondary_capture_is_accepted(modality):
    image = read_dicom(make_us_dataset(modality=modality))
    assert image.modality == "OT" and image.sop_class_uid == "1.2.840.10008.5.1.4.1.1.7"


def test_missing_modality_with_us_sop_class_is_accepted():
    ds = make_us_dataset()
    del ds.Modality
    assert read_dicom(ds).modality == ""


# --- bad input: each names the file and the problem -------------------------------------------------------


@pytest.mark.parametrize("modality", ["CT", "MR"])
def test_wrong_modality_is_refused(tmp_path, modality):
    path = make_us_dicom(tmp_path / "ct.dcm", modality=modality)
    with pytest.raises(DicomReadError, match=rf"ct\.dcm: modality {modality} is not accepted"):
        read_dicom(path)


def test_other_modality_can_be_allowed_explicitly():
    assert read_dicom(make_us_dataset(modality="CT"), modalities={"CT"}).modality == "CT"


def test_no_pixel_data(tmp_path):
    path = make_us_dicom(tmp_path / "empty.dcm", with_pixels=False)
    with pytest.raises(DicomReadError, match=r"empty\.dcm: no pixel data"):
        read_dicom(path)


@pytest.mark.parametrize(
    ("uid", "label"),
    [("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"), ("1.2.3.4.5.6", "1.2.3.4.5.6")],
)
def test_unsupported_transfer_syntax(tmp_path, uid, label):
    ds = make_us_dataset()
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xf7 not really jpeg-ls \xff\xd9"])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = uid
    path = tmp_path / "jls.dcm"
    ds.save_as(path, enforce_file_format=True, implicit_vr=False, little_endian=True)
    with pytest.raises(DicomReadError, match=r"jls\.dcm: transfer syntax .*is not supported") as info:
        read_dicom(path)
    assert label in str(info.value)


@pytest.mark.parametrize(("frames", "frame"), [(1, 1), (3, 3), (3, -1), (3, 10)])
def test_frame_index_out_of_range(tmp_path, frames, frame):
    path = make_us_dicom(tmp_path / "cine.dcm", frames=frames)
    with pytest.raises(DicomReadError, match=rf"cine\.dcm: frame index {frame} out of range.*{frames} frame"):
        read_dicom(path, frame=frame)


def test_not_a_dicom_file(tmp_path):
    png = tmp_path / "photo.dcm"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 300)
    with pytest.raises(DicomReadError, match=r"photo\.dcm: not a DICOM file"):
        read_dicom(png)
    with pytest.raises(DicomReadError, match="not a DICOM file"):
        read_dicom(b"hello")


def test_missing_file_and_dicom_error_is_an_image_load_error(tmp_path):
    with pytest.raises(ImageLoadError, match=r"nope\.dcm: no such file"):
        read_dicom(tmp_path / "nope.dcm")


def test_truncated_pixel_data_is_a_clear_error(tmp_path):
    data = dicom_bytes(make_us_dataset(frames=3))
    with pytest.raises(DicomReadError, match="cannot be decoded|not a readable DICOM"):
        read_dicom(data[: len(data) - 2000], frame=2)


def test_frame_too_large_is_refused():
    with pytest.raises(DicomReadError, match="over the limit"):
        read_dicom(make_us_dataset(), max_pixels=1000)
