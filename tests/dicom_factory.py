"""Build small ultrasound DICOM files for tests (shared: preprocessing, DICOM networking, the app).

>>> from tests.dicom_factory import make_us_dicom, expected_pixels
>>> path = make_us_dicom(tmp_path / "a.dcm", frames=3, photometric="RGB", compress="rle")  # doctest: +SKIP

Every frame shows a known pattern (:func:`expected_pixels`): a diagonal gradient that shifts with the frame index
plus a bright disc, so a reader can be checked pixel by pixel and frame by frame.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import convert_color_space
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
    generate_uid,
)

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
SOP_CLASS_BY_MODALITY = {"CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4"}
COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422")


def expected_pixels(rows: int = 48, columns: int = 64, frames: int = 1, colour: bool = False) -> np.ndarray:
    """The pattern a correct reader returns: ``(frames, rows, columns)`` or ``(frames, rows, columns, 3)`` uint8.

    Colour is constant over horizontal pixel pairs, so YBR_FULL_422 (chroma shared by a pair) stays exact.
    """
    yy, xx = np.mgrid[0:rows, 0:columns]
    out = []
    for f in range(frames):
        gray = (20 + 2 * yy + (xx // 2) * 4 + 37 * f) % 200
        # the disc is drawn on 2x2 blocks so chroma subsampling (4:2:2, 4:2:0) keeps its colours exact
        disc = (yy // 2 * 2 - rows * 0.5) ** 2 + (xx // 2 * 2 - columns * 0.6) ** 2 < (0.2 * min(rows, columns)) ** 2
        gray = np.where(disc, 240, gray).astype(np.uint8)
        if colour:
            red = gray
            green = (200 - gray.astype(int) // 2).astype(np.uint8)
            blue = np.full_like(gray, 60 + 30 * (f % 5))
            out.append(np.stack([red, green, blue], axis=-1))
        else:
            out.append(gray)
    return np.stack(out)


def make_us_dataset(
    frames: int = 1,
    photometric: str = "MONOCHROME2",
    compress: str | None = None,
    modality: str = "US",
    rows: int = 48,
    columns: int = 64,
    bits_stored: int = 8,
    with_pixels: bool = True,
    with_regions: bool = True,
    patient_id: str = "PHANTOM-001",
    sop_class_uid: str | None = None,
) -> Dataset:
    """A complete in-memory dataset (with ``file_meta``) holding :func:`expected_pixels`.

    ``photometric``: MONOCHROME2, MONOCHROME1, RGB, YBR_FULL or YBR_FULL_422; ``compress``: None, "rle" or
    "jpeg" (JPEG baseline via Pillow: gray stays MONOCHROME2, colour is stored as YBR_FULL_422, lossy);
    ``bits_stored`` 12 or 16 gives 16-bit gray (the pattern scaled by 2**bits/256).
    """
    colour = photometric in COLOUR
    if compress not in (None, "rle", "jpeg"):
        raise ValueError(f"compress must be None, 'rle' or 'jpeg', got {compress!r}")
    if columns % 2 and photometric == "YBR_FULL_422":
        raise ValueError(f"YBR_FULL_422 needs an even number of columns, got {columns}")
    pattern = expected_pixels(rows, columns, frames, colour)
    ds = Dataset()
    ds.SOPClassUID = sop_class_uid or SOP_CLASS_BY_MODALITY.get(
        modality, SECONDARY_CAPTURE if modality == "OT" else US_MULTIFRAME if frames > 1 else US_IMAGE
    )
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.PatientID = patient_id
    ds.PatientName = "TEST^PHANTOM"
    ds.StudyDate = "20260101"
    ds.AccessionNumber = "ACC42"
    ds.Manufacturer = "usegan test factory"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3 if colour else 1
    if colour:
        ds.PlanarConfiguration = 0
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = 40.0
        ds.FrameIncrementPointer = 0x00181063  # Frame Time
    if with_regions:
        region = Dataset()
        region.RegionSpatialFormat = 1
        region.RegionDataType = 1
        region.RegionFlags = 0
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 4, 2
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = columns - 5, rows - 3
        region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3  # cm
        region.PhysicalDeltaX = region.PhysicalDeltaY = 0.01
        ds.SequenceOfUltrasoundRegions = Sequence([region])

    ts = ExplicitVRLittleEndian
    if bits_stored > 8:
        stored = (pattern.astype(np.uint32) << (bits_stored - 8)).astype(np.uint16)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
    else:
        stored = pattern
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    if photometric == "MONOCHROME1":
        stored = (np.iinfo(stored.dtype).max >> (16 - bits_stored if bits_stored > 8 else 0)) - stored
    if compress == "jpeg":
        ts = JPEGBaseline8Bit
        ds.PhotometricInterpretation = "YBR_FULL_422" if colour else "MONOCHROME2"
        ds.LossyImageCompression = "01"
        ds.PixelData = encapsulate([_jpeg(frame) for frame in pattern])
        ds["PixelData"].VR = "OB"
    else:
        if photometric in ("YBR_FULL", "YBR_FULL_422"):
            stored = convert_color_space(stored, "RGB", "YBR_FULL")
        ds.PhotometricInterpretation = photometric
        if photometric == "YBR_FULL_422":
            ds.PixelData = _subsample_422(stored).tobytes()
        else:
            ds.PixelData = (stored[0] if frames == 1 else stored).tobytes()
        ds["PixelData"].VR = "OW" if bits_stored > 8 else "OB"
    if not with_pixels:
        del ds.PixelData
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ts
    if compress == "rle" and with_pixels:
        ds.compress(RLELossless)
    return ds


def make_us_dicom(
    path: str | Path,
    frames: int = 1,
    photometric: str = "MONOCHROME2",
    compress: str | None = None,
    modality: str = "US",
    **kwargs,
) -> Path:
    """Write :func:`make_us_dataset` to ``path`` as a DICOM Part 10 file and return the path."""
    ds = make_us_dataset(frames=frames, photometric=photometric, compress=compress, modality=modality, **kwargs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def dicom_bytes(ds: Dataset) -> bytes:
    """``ds`` serialised as a Part 10 file in memory."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _jpeg(frame: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _subsample_422(ybr: np.ndarray) -> np.ndarray:
    """``(F, H, W, 3)`` full YBR -> the YBR_FULL_422 byte layout: Y1 Y2 Cb Cr for each horizontal pair."""
    y = ybr[..., 0]
    cb = ybr[..., 0::2, 1].astype(np.uint16) + ybr[..., 1::2, 1]
    cr = ybr[..., 0::2, 2].astype(np.uint16) + ybr[..., 1::2, 2]
    out = np.empty(ybr.shape[:-2] + (ybr.shape[-2] * 2,), dtype=np.uint8)
    out[..., 0::4] = y[..., 0::2]
    out[..., 1::4] = y[..., 1::2]
    out[..., 2::4] = (cb // 2).astype(np.uint8)
    out[..., 3::4] = (cr // 2).astype(np.uint8)
    return out
