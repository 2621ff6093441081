"""Reading ultrasound DICOM files (single- and multi-frame) into pixels plus the metadata the product keeps.

Accepted: modality ``US``, and secondary captures (``OT`` or a Secondary Capture SOP class) since screen grabs of
scanners arrive that way. Photometric interpretations MONOCHROME1/2, RGB, YBR_FULL, YBR_FULL_422 and PALETTE
COLOR are returned as ``(H, W)`` gray or ``(H, W, 3)`` RGB. Transfer syntaxes are whatever the installed pydicom
decoders handle: uncompressed, deflated, RLE Lossless (pydicom itself) and JPEG baseline/extended and JPEG 2000
(through Pillow). Anything else is refused with a :class:`DicomReadError` that names the file and the problem.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usegan.imageio import DEFAULT_MAX_PIXELS, ImageLoadError, check_size
from usegan.screencrop import CropBox

ACCEPTED_MODALITIES = frozenset({"US", "OT"})  # ultrasound, and "other" (how most screen captures are labelled)
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"  # SC Image Storage and its multi-frame variants
ULTRASOUND_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
        "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image Storage
        "1.2.840.10008.5.1.4.1.1.6",  # Ultrasound Image Storage (retired)
        "1.2.840.10008.5.1.4.1.1.3",  # Ultrasound Multi-frame Image Storage (retired)
    }
)
_PHOTOMETRICS = {"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "PALETTE COLOR"}
_PHOTOMETRICS_DECODED_AS_RGB = {"YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420"}  # decoders convert these themselves
_CM_UNITS = 3  # Physical Units X/Y Direction code for centimetres (PS3.3 C.8.5.5.1.15)


class DicomReadError(ImageLoadError):
    """A DICOM input cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class UltrasoundRegion:
    """One item of the Sequence of Ultrasound Regions (0018,6011); pixel bounds are inclusive, as in DICOM."""

    x0: int  # Region Location Min X0 (column of the left edge)
    y0: int  # Region Location Min Y0 (row of the top edge)
    x1: int  # Region Location Max X1 (column of the right edge, inclusive)
    y1: int  # Region Location Max Y1 (row of the bottom edge, inclusive)
    spatial_format: int  # 1 = 2D (tissue or flow), 2 = M-mode, 3 = spectral, 4 = waveform ...
    data_type: int  # 1 = tissue, 2 = colour flow, 3 = PW Doppler ...
    units_x: int  # physical units code of delta_x (3 = cm)
    units_y: int  # physical units code of delta_y (3 = cm)
    delta_x: float  # physical size of one pixel along x, in units_x
    delta_y: float  # physical size of one pixel along y, in units_y

    def box(self) -> CropBox:
        """The region as a :class:`CropBox` (exclusive width/height)."""
        return CropBox(self.x0, self.y0, self.x1 - self.x0 + 1, self.y1 - self.y0 + 1)


@dataclass(frozen=True)
class DicomImage:
    """One decoded frame and the metadata of its DICOM file."""

    pixels: np.ndarray  # (H, W) gray or (H, W, 3) RGB, uint8 or uint16; bright = echo (MONOCHROME1 inverted)
    frame: int  # index of the decoded frame, 0-based
    n_frames: int  # frames in the file (1 for single-frame)
    modality: str  # (0008,0060), e.g. "US" or "OT"
    sop_class_uid: str  # (0008,0016)
    sop_instance_uid: str  # (0008,0018)
    study_instance_uid: str  # (0020,000D)
    series_instance_uid: str  # (0020,000E)
    patient_id: str  # (0010,0020); names are deliberately not read here
    study_date: str  # (0008,0020) as stored, YYYYMMDD or ""
    accession_number: str  # (0008,0050)
    manufacturer: str  # (0008,0070)
    photometric: str  # (0028,0004) as stored in the file
    transfer_syntax_uid: str  # (0002,0010)
    bits_stored: int  # (0028,0101)
    pixel_spacing_mm: tuple[float, float] | None  # (row, column) spacing in mm, from Pixel Spacing or a region
    regions: tuple[UltrasoundRegion, ...]  # Sequence of Ultrasound Regions, empty when absent
    source: str  # file name or description, for messages

    def tissue_region(self) -> UltrasoundRegion | None:
        """The largest 2-D tissue region the scanner declared that overlaps the image, or ``None``."""
        height, width = self.pixels.shape[:2]
        candidates = [r for r in self.regions if r.spatial_format == 1]
        tissue = [r for r in candidates if r.data_type == 1] or candidates
        inside = [r for r in tissue if r.box().clip(height, width) is not None]
        return max(inside, key=lambda r: r.box().clip(height, width).w * r.box().clip(height, width).h, default=None)

    def image_region(self) -> CropBox | None:
        """Bounding box of the largest 2-D tissue region the scanner declared, clipped to the image, or ``None``.

        This is the scanner's own statement of where the image area is, better than any guess from the pixels.
        """
        region = self.tissue_region()
        return None if region is None else region.box().clip(*self.pixels.shape[:2])

    def calibration(self) -> tuple[tuple[float, float] | None, str | None]:
        """``((row_mm, column_mm), source)`` for the image area, or ``(None, None)``.

        The tissue region's PhysicalDeltaY/X (in cm) is the scanner's calibration of exactly the pixels kept
        (source ``"region"``); Pixel Spacing (source ``"pixel_spacing"``) is used only when no region says it.
        """
        region = self.tissue_region()
        spacing = _region_spacing(region) if region is not None else None
        if spacing is not None:
            return spacing, "region"
        if self.pixel_spacing_mm is not None:
            return self.pixel_spacing_mm, "pixel_spacing"
        return None, None


def is_dicom_bytes(head: bytes) -> bool:
    """True when ``head`` (the first >= 132 bytes of a file) carries the ``DICM`` marker at offset 128."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def read_dicom(
    source,
    frame: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    modalities: Collection[str] = ACCEPTED_MODALITIES,
) -> DicomImage:
    """Read frame ``frame`` of a DICOM ``source`` (path, bytes or a pydicom ``Dataset``).

    Raises :class:`DicomReadError` for: a missing file, not a DICOM file, a wrong modality (anything not in
    ``modalities`` unless it is a US or Secondary Capture SOP class with no modality), no pixel data, an
    unsupported transfer syntax or photometric interpretation, a frame index out of range, a too large frame,
    or pixel data that fails to decode.
    """
    from pydicom import Dataset

    ds, name = _open(source)
    if not isinstance(ds, Dataset):  # pragma: no cover - dcmread always returns a Dataset subclass
        raise DicomReadError(f"{name}: not a DICOM dataset")
    _check_modality(ds, name, modalities)
    if "PixelData" not in ds:
        raise DicomReadError(f"{name}: no pixel data (7FE0,0010) in this DICOM file; nothing to show")
    ts = _check_transfer_syntax(ds, name)
    n_frames = _n_frames(ds, name)
    if not isinstance(frame, int | np.integer) or not 0 <= frame < n_frames:
        raise DicomReadError(
            f"{name}: frame index {frame!r} out of range; the file has {n_frames} frame(s) (0..{n_frames - 1})"
        )
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    try:
        check_size(rows, cols, name, max_pixels)
    except ImageLoadError as exc:
        raise DicomReadError(str(exc)) from exc
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if photometric not in _PHOTOMETRICS | _PHOTOMETRICS_DECODED_AS_RGB:
        raise DicomReadError(f"{name}: photometric interpretation {photometric!r} is not supported")
    pixels = _decode(ds, name, int(frame), photometric)
    regions = _regions(ds)
    return DicomImage(
        pixels=pixels,
        frame=int(frame),
        n_frames=n_frames,
        modality=str(ds.get("Modality", "")),
        sop_class_uid=str(ds.get("SOPClassUID", "")),
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        patient_id=str(ds.get("PatientID", "")),
        study_date=str(ds.get("StudyDate", "")),
        accession_number=str(ds.get("AccessionNumber", "")),
        manufacturer=str(ds.get("Manufacturer", "")),
        photometric=photometric,
        transfer_syntax_uid=str(ts),
        bits_stored=int(ds.get("BitsStored", 8) or 8),
        pixel_spacing_mm=_pixel_spacing(ds, regions),
        regions=regions,
        source=name,
    )


def _open(source) -> tuple:
    from pydicom import Dataset, dcmread
    from pydicom.errors import InvalidDicomError

    if isinstance(source, Dataset):
        return source, str(getattr(source, "filename", "") or "<dataset>")
    if isinstance(source, str | Path):
        path, name = Path(source), str(source)
        if not path.is_file():
            raise DicomReadError(f"{name}: no such file" if not path.exists() else f"{name}: not a file")
        data = path.read_bytes()
    elif isinstance(source, bytes | bytearray):
        data, name = bytes(source), f"<{len(source)} bytes>"
    else:
        raise DicomReadError(f"<{type(source).__name__}>: unsupported DICOM source type")
    if not is_dicom_bytes(data[:132]):
        raise DicomReadError(f"{name}: not a DICOM file (no 'DICM' marker at byte 128)")
    try:
        return dcmread(io.BytesIO(data)), name
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise DicomReadError(f"{name}: not a readable DICOM file ({exc})") from exc


def _check_modality(ds, name: str, modalities: Collection[str]) -> None:
    modality = str(ds.get("Modality", "")).strip().upper()
    sop_class = str(ds.get("SOPClassUID", ""))
    accepted = {m.upper() for m in modalities}
    if modality in accepted:
        return
    us_or_sc = sop_class in ULTRASOUND_SOP_CLASSES or sop_class.startswith(SECONDARY_CAPTURE_PREFIX)
    if not modality and us_or_sc:
        return
    shown = modality or "(none)"
    raise DicomReadError(
        f"{name}: modality {shown} is not accepted (SOP class {sop_class or '(none)'}); this product reads "
        f"B-mode ultrasound: modality {', '.join(sorted(accepted))} or a secondary capture of an ultrasound screen"
    )


def _check_transfer_syntax(ds, name: str):
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    meta = getattr(ds, "file_meta", None)
    ts = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    if not ts:
        raise DicomReadError(f"{name}: no Transfer Syntax UID (0002,0010) in the file meta; cannot decode pixels")
    ts = UID(str(ts))
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        decoder = None
    if decoder is None or not decoder.is_available:
        raise DicomReadError(
            f"{name}: transfer syntax {ts.name} ({ts}) is not supported by the installed decoders; "
            "export the image uncompressed, RLE Lossless or JPEG Baseline instead"
        )
    return ts


def _n_frames(ds, name: str) -> int:
    raw = ds.get("NumberOfFrames", 1)
    try:
        n = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError) as exc:
        raise DicomReadError(f"{name}: Number of Frames {raw!r} is not an integer") from exc
    if n < 1:
        raise DicomReadError(f"{name}: Number of Frames is {n}; the file holds no image")
    return n


def _decode(ds, name: str, frame: int, photometric: str) -> np.ndarray:
    from pydicom.pixels import apply_color_lut, pixel_array

    try:
        # index= decodes only the wanted frame; YBR_* is converted to RGB by pydicom (as_rgb defaults to True)
        arr = np.asarray(pixel_array(ds, index=frame))
        if photometric == "PALETTE COLOR":
            arr = np.asarray(apply_color_lut(arr, ds))
    except Exception as exc:  # decoders raise many types (ValueError, RuntimeError, OSError, struct.error ...)
        raise DicomReadError(f"{name}: pixel data of frame {frame} cannot be decoded ({exc})") from exc
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise DicomReadError(f"{name}: decoded frame has unexpected shape {arr.shape}")
    if photometric == "PALETTE COLOR":
        return _to_unsigned(arr, 16 if arr.dtype.itemsize > 1 else 8, signed=False)
    bits = int(ds.get("BitsStored", arr.dtype.itemsize * 8) or 8)
    out = _to_unsigned(arr, bits, signed=int(ds.get("PixelRepresentation", 0) or 0) == 1)
    if photometric == "MONOCHROME1":  # MONOCHROME1 shows the minimum as white: invert so bright = echo
        out = np.iinfo(out.dtype).max - out
    return out


def _to_unsigned(arr: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """Stored values of ``bits`` bits -> uint8 (bits <= 8) or uint16 stretched to the full 16-bit range."""
    bits = min(max(int(bits), 1), 16)
    values = arr.astype(np.int64)
    if signed:
        values = values + (1 << (bits - 1))
    top = (1 << bits) - 1
    values = np.clip(values, 0, top)
    if bits <= 8:
        return (values * (255 // top) if 255 % top == 0 else np.rint(values * (255 / top))).astype(np.uint8)
    # 12-bit data in uint16 would otherwise look almost black after scaling by 65535
    return np.rint(values * (65535 / top)).astype(np.uint16)


def _regions(ds) -> tuple[UltrasoundRegion, ...]:
    out = []
    for item in ds.get("SequenceOfUltrasoundRegions", []) or []:
        try:
            out.append(
                UltrasoundRegion(
                    x0=int(item.RegionLocationMinX0),
                    y0=int(item.RegionLocationMinY0),
                    x1=int(item.RegionLocationMaxX1),
                    y1=int(item.RegionLocationMaxY1),
                    spatial_format=int(item.get("RegionSpatialFormat", 0) or 0),
                    data_type=int(item.get("RegionDataType", 0) or 0),
                    units_x=int(item.get("PhysicalUnitsXDirection", 0) or 0),
                    units_y=int(item.get("PhysicalUnitsYDirection", 0) or 0),
                    delta_x=float(item.get("PhysicalDeltaX", 0.0) or 0.0),
                    delta_y=float(item.get("PhysicalDeltaY", 0.0) or 0.0),
                )
            )
        except (AttributeError, TypeError, ValueError):
            continue  # an incomplete region is ignored rather than failing the whole image
    return tuple(out)


def _region_spacing(region: UltrasoundRegion) -> tuple[float, float] | None:
    """``(row, column)`` mm per pixel of a region calibrated in cm, else ``None``."""
    if region.units_x == region.units_y == _CM_UNITS and region.delta_x and region.delta_y:
        return abs(region.delta_y) * 10.0, abs(region.delta_x) * 10.0
    return None


def _pixel_spacing(ds, regions: tuple[UltrasoundRegion, ...]) -> tuple[float, float] | None:
    spacing = ds.get("PixelSpacing")
    if spacing is not None and len(spacing) == 2:
        try:
            row, col = float(spacing[0]), float(spacing[1])
            if row > 0 and col > 0:
                return row, col
        except (TypeError, ValueError):
            pass
    for region in regions:
        if region.spatial_format == 1 and region.units_x == region.units_y == _CM_UNITS:
            if region.delta_x > 0 and region.delta_y > 0:
                return abs(region.delta_y) * 10.0, abs(region.delta_x) * 10.0
    return None
