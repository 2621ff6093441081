"""Test inputs for intake: a 640x480 scanner screen capture, and DICOM files holding any pixels."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.dicom_factory import SECONDARY_CAPTURE, US_IMAGE, dicom_bytes
from tests.test_screencrop import screen_capture, speckle_image

RAW_ID = "MRN-4711"  # the scanner's Patient ID: must never reach the database, a PDF, the audit log or an export
CAPTURE_BOX = (80, 52, 400, 400)  # the image area of the 640x480 capture, (x, y, w, h)


def band_capture(seed: int = 0) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 640x480 RGB screen capture whose 400x400 image area is crossed by an anechoic band (rows 188-260 of the
    image): what the old detector cut to its upper 188 rows. Returns (pixels, true box)."""
    image, _ = speckle_image(400, 400, np.random.default_rng(seed))
    image = image.astype(np.float32)
    image[188:260] *= 0.02
    capture, _ = screen_capture(
        np.random.default_rng(seed + 1), screen=(480, 640), box=CAPTURE_BOX, image=image.astype(np.uint8)
    )
    return capture, CAPTURE_BOX


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def pixels_dataset(
    pixels: np.ndarray,
    *,
    patient_id: str = RAW_ID,
    region: tuple[int, int, int, int] | None = None,
    delta_cm: tuple[float, float] = (0.01, 0.01),
    modality: str = "US",
    **attributes,
) -> Dataset:
    """A DICOM dataset holding ``pixels`` (uint8 gray or RGB); ``region`` (x, y, w, h) adds a Sequence of
    Ultrasound Regions calibrated ``delta_cm`` = (PhysicalDeltaX, PhysicalDeltaY) cm per pixel."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    ds = Dataset()
    ds.SOPClassUID = US_IMAGE if modality == "US" else SECONDARY_CAPTURE
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.Modality = modality
    ds.PatientID = patient_id
    ds.PatientName = "DOE^JANE"
    ds.StudyDate, ds.StudyTime = "20260314", "101500"
    ds.Manufacturer = "ACME"
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 3 if pixels.ndim == 3 else 1
    if pixels.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "RGB" if pixels.ndim == 3 else "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    for key, value in attributes.items():
        setattr(ds, key, value)
    if region is not None:
        x, y, w, h = region
        item = Dataset()
        item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
        item.RegionLocationMinX0, item.RegionLocationMinY0 = x, y
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x + w - 1, y + h - 1
        item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3  # cm
        item.PhysicalDeltaX, item.PhysicalDeltaY = delta_cm
        ds.SequenceOfUltrasoundRegions = Sequence([item])
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OB"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def pixels_dicom(pixels: np.ndarray, **kwargs) -> bytes:
    return dicom_bytes(pixels_dataset(pixels, **kwargs))
