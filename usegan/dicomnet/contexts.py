"""Which DICOM objects and encodings the receiver accepts, and the checks a received object must pass.

SOP classes: Ultrasound Image Storage (single- or multi-frame), Ultrasound Multi-frame Image Storage, their
retired 1993 variants (older scanners still send them) and Secondary Capture (screen grabs). Transfer
syntaxes: the two uncompressed little-endian ones, plus the compressed ones pydicom can decode without extra
packages (JPEG baseline via Pillow, RLE Lossless via numpy), so that everything accepted can also be imported.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)

ULTRASOUND_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
ULTRASOUND_MULTIFRAME_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
ULTRASOUND_IMAGE_STORAGE_RETIRED = "1.2.840.10008.5.1.4.1.1.6"
ULTRASOUND_MULTIFRAME_IMAGE_STORAGE_RETIRED = "1.2.840.10008.5.1.4.1.1.3"
SECONDARY_CAPTURE_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
VERIFICATION = "1.2.840.10008.1.1"

ACCEPTED_SOP_CLASSES: tuple[str, ...] = (
    ULTRASOUND_IMAGE_STORAGE,
    ULTRASOUND_MULTIFRAME_IMAGE_STORAGE,
    ULTRASOUND_IMAGE_STORAGE_RETIRED,
    ULTRASOUND_MULTIFRAME_IMAGE_STORAGE_RETIRED,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
)
ACCEPTED_TRANSFER_SYNTAXES: tuple[str, ...] = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)
UNCOMPRESSED_TRANSFER_SYNTAXES = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian})

# C-STORE failure statuses (PS3.4 Annex B.2.3). 0xA7xx makes a scanner keep the image and retry later;
# 0xA9xx / 0xCxxx tell it the object itself is at fault.
STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_DATASET_DOES_NOT_MATCH_SOP_CLASS = 0xA900
STATUS_CANNOT_UNDERSTAND = 0xC000


def check_received(ds: Dataset, sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str) -> str | None:
    """Return why a received dataset is unusable (a short sentence), or ``None`` when it looks complete.

    ``sop_class_uid`` / ``sop_instance_uid`` are the values from the C-STORE request, which the dataset must
    repeat. Image size is checked against the pixel-data length for uncompressed transfer syntaxes (cheap, and
    catches truncated objects); compressed pixel data is fully validated at import time.
    """
    for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        if not str(ds.get(keyword, "") or "").strip():
            return f"missing {keyword}"
    if str(ds.SOPInstanceUID) != str(sop_instance_uid).rstrip("\x00"):
        return f"SOPInstanceUID {ds.SOPInstanceUID} differs from the request's {sop_instance_uid}"
    if str(ds.SOPClassUID) != str(sop_class_uid).rstrip("\x00"):
        return f"SOPClassUID {ds.SOPClassUID} differs from the request's {sop_class_uid}"
    if "PixelData" not in ds:
        return "no pixel data"
    rows, columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    if rows <= 0 or columns <= 0:
        return f"bad image size Rows={rows} Columns={columns}"
    if transfer_syntax in UNCOMPRESSED_TRANSFER_SYNTAXES:
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        bits = int(ds.get("BitsAllocated", 8) or 8)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        expected = rows * columns * samples * frames * bits // 8
        if ds.get("PhotometricInterpretation", "") == "YBR_FULL_422":
            expected = expected * 2 // 3  # two chroma samples shared by two pixels
        got = len(ds.PixelData)
        if got < expected:
            return f"pixel data is {got} bytes, {expected} expected for {frames}x{rows}x{columns}x{samples}"
    return None
