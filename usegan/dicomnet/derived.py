"""DICOM objects sent back: the virtual elastogram as Secondary Capture, the signed report as PDF.

Both join the *original* study (same Study Instance UID and patient identifiers, from a :class:`StudyRef`)
in a new series of their own, so the PACS files them next to the B-mode images. The elastogram is marked as
derived and virtual everywhere a viewer might look: ImageType ``DERIVED\\SECONDARY``, SeriesDescription
``VIRTUAL elastogram (USE-GAN <version>)``, DerivationDescription, ImageComments and (by default) a label
burned into the pixels above the image, because many viewers show only pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image, ImageDraw
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from usegan import VIRTUAL_LABEL, __version__
from usegan.dicomnet.contexts import ENCAPSULATED_PDF_STORAGE, SECONDARY_CAPTURE_IMAGE_STORAGE
from usegan.vocab import Mode

LABEL_BAND_PX = 16  # height of the black band carrying the burned-in "VIRTUAL" label
_MODE_WORDS: dict[str, str] = {Mode.STRAIN: "strain", Mode.SWE: "shear-wave"}


@dataclass(frozen=True)
class StudyRef:
    study_instance_uid: str  # the original study: derived objects join it
    patient_id: str = ""  # as the scanner sent it (the PACS matches on it)
    patient_name: str = ""  # may stay empty (names are off by default in the store)
    patient_birth_date: str = ""  # DA, YYYYMMDD or empty
    patient_sex: str = ""  # M / F / O or empty
    study_date: str = ""  # DA of the original study
    study_time: str = ""  # TM of the original study
    study_id: str = ""  # SH, the scanner's study id
    accession_number: str = ""  # SH, the order / RIS number
    referring_physician_name: str = ""  # PN
    source_sop_class_uid: str = ""  # the B-mode image the elastogram was generated from,
    source_sop_instance_uid: str = ""  # referenced in SourceImageSequence when known

    def __post_init__(self) -> None:
        if not str(self.study_instance_uid).strip():
            raise ValueError(f"StudyRef needs the original Study Instance UID, got {self.study_instance_uid!r}")

    @classmethod
    def from_dataset(cls, ds: Dataset) -> StudyRef:
        """Take the study and patient identifiers from a received (original) dataset."""

        def text(keyword: str) -> str:
            return str(ds.get(keyword, "") or "")

        return cls(
            study_instance_uid=text("StudyInstanceUID"),
            patient_id=text("PatientID"),
            patient_name=text("PatientName"),
            patient_birth_date=text("PatientBirthDate"),
            patient_sex=text("PatientSex"),
            study_date=text("StudyDate"),
            study_time=text("StudyTime"),
            study_id=text("StudyID"),
            accession_number=text("AccessionNumber"),
            referring_physician_name=text("ReferringPhysicianName"),
            source_sop_class_uid=text("SOPClassUID"),
            source_sop_instance_uid=text("SOPInstanceUID"),
        )


def _base(study: StudyRef, sop_class: str, modality: str, series_uid: str | None, series_number: int, now):
    ds = Dataset()
    sop_uid = generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: patient names may be in any script
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.InstanceCreationDate = ds.ContentDate = ds.SeriesDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = ds.ContentTime = ds.SeriesTime = now.strftime("%H%M%S")
    # Patient and General Study modules: copied from the original so the object files into the same study.
    ds.PatientID = study.patient_id
    ds.PatientName = study.patient_name
    ds.PatientBirthDate = study.patient_birth_date
    ds.PatientSex = study.patient_sex
    ds.StudyInstanceUID = study.study_instance_uid
    ds.StudyDate = study.study_date
    ds.StudyTime = study.study_time
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession_number
    ds.ReferringPhysicianName = study.referring_physician_name
    # A new series of our own, and the SC Equipment module (Conversion Type "WSD": made on a workstation).
    ds.Modality = modality
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber = int(series_number)
    ds.ConversionType = "WSD"
    ds.Manufacturer = "usegan"
    ds.SoftwareVersions = f"usegan {__version__}"
    if study.source_sop_instance_uid and study.source_sop_class_uid:
        ref = Dataset()
        ref.ReferencedSOPClassUID = study.source_sop_class_uid
        ref.ReferencedSOPInstanceUID = study.source_sop_instance_uid
        ds.SourceImageSequence = [ref]
    return ds


def _burn_label(rgb: np.ndarray, text: str) -> np.ndarray:
    """Return ``rgb`` with a black band on top carrying ``text`` in white: ``(H + 16, W, 3)`` uint8."""
    band = Image.new("RGB", (rgb.shape[1], LABEL_BAND_PX), (0, 0, 0))
    ImageDraw.Draw(band).text((2, 2), text, fill=(255, 255, 255))
    return np.concatenate([np.asarray(band, dtype=np.uint8), rgb], axis=0)


def build_secondary_capture(
    elasto_rgb: np.ndarray,
    study: StudyRef,
    *,
    model_version: str,
    mode: str,
    series_number: int = 901,
    instance_number: int = 1,
    series_instance_uid: str | None = None,
    burn_in_label: bool = True,
    now: datetime | None = None,
) -> Dataset:
    """Wrap a virtual elastogram ``(H, W, 3)`` uint8 RGB into a Secondary Capture in ``study``'s study.

    ``mode`` is ``"strain"`` or ``"swe"``. With ``burn_in_label`` the pixels gain a 16-pixel band on top
    reading ``VIRTUAL <mode> - USE-GAN <version>`` (the image becomes ``(H + 16, W, 3)``). The result has
    ``file_meta`` (Explicit VR Little Endian), ready for :func:`usegan.dicomnet.scu.send_datasets`.
    """
    rgb = np.asarray(elasto_rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"elastogram must be (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
    if not (1 <= rgb.shape[0] <= 65_000 and 1 <= rgb.shape[1] <= 65_535):
        raise ValueError(f"elastogram size out of range, got {rgb.shape[1]}x{rgb.shape[0]}")
    if mode not in _MODE_WORDS:
        raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")
    now = now or datetime.now()
    words = _MODE_WORDS[mode]
    ds = _base(study, SECONDARY_CAPTURE_IMAGE_STORAGE, "US", series_instance_uid, series_number, now)
    ds.SeriesDescription = f"VIRTUAL elastogram (USE-GAN {model_version})"[:64]
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.DerivationDescription = (
        f"Virtual {words} elastogram generated from the B-mode image by the USE-GAN model {model_version} "
        "(usegan). A model's estimate, not a measurement."
    )
    ds.ImageComments = f"{VIRTUAL_LABEL} (USE-GAN {model_version}, {words})"
    ds.InstanceNumber = int(instance_number)
    if burn_in_label:
        rgb = _burn_label(rgb, f"VIRTUAL {words} - USE-GAN {model_version}")
    ds.BurnedInAnnotation = "YES" if burn_in_label else "NO"
    ds.Rows, ds.Columns = int(rgb.shape[0]), int(rgb.shape[1])
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0  # R, G, B interleaved per pixel, as numpy stores it
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(rgb).tobytes()
    return ds


def build_encapsulated_pdf(
    pdf_bytes: bytes,
    study: StudyRef,
    *,
    title: str = "Virtual elastography report",
    series_number: int = 902,
    instance_number: int = 1,
    series_instance_uid: str | None = None,
    now: datetime | None = None,
) -> Dataset:
    """Wrap a signed PDF report into an Encapsulated PDF object (Modality DOC) in ``study``'s study."""
    data = bytes(pdf_bytes)
    if not data.startswith(b"%PDF-"):
        raise ValueError(f"not a PDF document: starts with {data[:8]!r}")
    now = now or datetime.now()
    ds = _base(study, ENCAPSULATED_PDF_STORAGE, "DOC", series_instance_uid, series_number, now)
    ds.SeriesDescription = f"Report: {title}"[:64]
    ds.InstanceNumber = int(instance_number)
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"  # the report names the patient pseudonym
    ds.DocumentTitle = title[:64]
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(data)  # the real length: the element itself is padded to even
    ds.EncapsulatedDocument = data + (b"\x00" if len(data) % 2 else b"")
    return ds


def to_bytes(ds: Dataset) -> bytes:
    """Encode ``ds`` as a DICOM Part 10 file (preamble, file meta) in memory."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()
