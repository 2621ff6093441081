"""The one intake pipeline: upload, DICOM upload, DICOM network, folder import and bundled samples all end here.

1. **read** (:func:`read_intake`): PNG/JPEG/TIFF or DICOM (any frame); size and finiteness checked on decode;
2. **header facts** (:class:`HeaderFacts`): Patient ID (raw, never stored unless ``store_patient_ids``), exam
   time, laterality and organ from a DICOM header, where present;
3. **image area** (:func:`image_area`): the scanner's Sequence of Ultrasound Regions when present (exact), else the
   detected image area of a screen capture (:mod:`usegan.screencrop`), else the whole image;
4. **calibration**: mm per pixel from the region's PhysicalDeltaX/Y or Pixel Spacing (DICOM), else none until a
   user calibrates the case;
5. **case** (:meth:`Intake.create_case`): the Patient ID becomes the installation's keyed pseudonym
   (:mod:`usegan.intake.pseudonym`), the crop is applied, and the store records B-mode, original file, crop and
   spacing in one audited write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from usegan.downscale import reading_copy, scaled_spacing
from usegan.imageio import ImageLoadError, to_gray
from usegan.intake.pseudonym import pseudonym, pseudonym_key
from usegan.screencrop import CropBox, suggest_crop
from usegan.store.intake import CROP_FACT
from usegan.vocab import LesionType, Organ, values

KNOWN_ORGANS = values(Organ)  # BodyPartExamined values mapped to an organ
SIDES = {"L": "left", "R": "right", "B": None}
AUTO_CROP_MIN_CONFIDENCE = 0.5  # a detected screen area is used only this sure, else the whole image is kept
AUTO_CROP_MIN_AREA = 0.2  # ... and only when it covers this share of the capture (an image area is never tiny)
AUTO_CROP_MAX_AREA = 0.9  # a detection covering more is a plain image with ragged edges: keep it whole
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".dcm", ".dicom")


@dataclass(frozen=True)
class HeaderFacts:
    """What a DICOM header says about the exam (all empty for a plain image)."""

    patient_id: str = ""  # raw Patient ID (0010,0020): pseudonymised before storing, kept only by setting
    patient_name: str = ""  # (0010,0010): kept only when settings.store_patient_names
    acquired_at: dt.datetime | None = None  # acquisition, else content, else study date and time
    side: str | None = None  # left / right from (Image) Laterality
    organ: str | None = None  # breast / thyroid / liver when BodyPartExamined names one
    body_part: str = ""  # BodyPartExamined as written
    manufacturer: str = ""
    uids: dict | None = None  # SOP / Study / Series instance UIDs, frame, transfer syntax ...

    @property
    def sop_instance_uid(self) -> str:
        return str((self.uids or {}).get("SOPInstanceUID") or "")


@dataclass(frozen=True)
class IntakeImage:
    """A decoded file, before it becomes a case (what the New-case page previews)."""

    name: str  # file name as received
    original: bytes = field(repr=False)  # the file, byte for byte
    pixels: np.ndarray = field(repr=False)  # (H, W) or (H, W, 3|4) of the chosen frame, as decoded
    frame: int  # chosen frame, 0-based
    n_frames: int  # frames in the file
    header: HeaderFacts  # DICOM facts (empty for a plain image)
    suggested_crop: CropBox  # the image area (see crop_source)
    crop_source: str  # region (scanner-declared) / screen (detected) / whole
    crop_confidence: float  # 1.0 for a region, the detector's confidence for a screen, 0 for whole
    spacing_mm: tuple[float, float] | None  # (row, column) mm per pixel, or None
    spacing_source: str | None  # region / pixel_spacing / None

    @property
    def is_dicom(self) -> bool:
        return self.header.uids is not None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.original).hexdigest()


def image_area(pixels: np.ndarray, region: CropBox | None = None) -> tuple[CropBox, str, float]:
    """``(box, source, confidence)``: the scanner's region, else a confident screen-capture detection, else all."""
    height, width = pixels.shape[:2]
    if region is not None:
        return region, "region", 1.0
    suggestion = suggest_crop(pixels)
    box = suggestion.box
    share = box.w * box.h / float(height * width)
    if suggestion.confidence >= AUTO_CROP_MIN_CONFIDENCE and AUTO_CROP_MIN_AREA <= share < AUTO_CROP_MAX_AREA:
        return suggestion.box, "screen", float(suggestion.confidence)
    return CropBox.full(height, width), "whole", float(suggestion.confidence)


def read_intake(data: bytes, name: str, *, frame: int = 0, max_pixels: int | None = None) -> IntakeImage:
    """Decode ``data`` (any image type or DICOM) into an :class:`IntakeImage`; ``ImageLoadError`` names problems."""
    from usegan.preprocess import _max_pixels, is_dicom, read_image

    data = bytes(data)
    if is_dicom(data):
        from usegan.dicomio import read_dicom

        dicom = read_dicom(data, frame=frame, max_pixels=_max_pixels(max_pixels))
        header = _header_facts(data, dicom)
        box, source, confidence = image_area(dicom.pixels, dicom.image_region())
        spacing, spacing_source = dicom.calibration()
        if source != "region" and spacing_source == "region":  # another region's calibration: not these pixels
            spacing, spacing_source = None, None
        return IntakeImage(
            name, data, dicom.pixels, dicom.frame, dicom.n_frames, header, box, source, confidence,
            spacing, spacing_source,
        )  # fmt: skip
    pixels = read_image(data, frame=frame, max_pixels=max_pixels)
    box, source, confidence = image_area(pixels)
    return IntakeImage(name, data, pixels, frame, 1, HeaderFacts(), box, source, confidence, None, None)


def _header_facts(data: bytes, dicom) -> HeaderFacts:
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(data), stop_before_pixels=True)
    body_part = str(ds.get("BodyPartExamined", "") or "").strip()
    laterality = str(ds.get("ImageLaterality", "") or ds.get("Laterality", "") or "").strip().upper()
    uids = {
        "SOPInstanceUID": dicom.sop_instance_uid,
        "SOPClassUID": dicom.sop_class_uid,
        "StudyInstanceUID": dicom.study_instance_uid,
        "SeriesInstanceUID": dicom.series_instance_uid,
        "Modality": dicom.modality,
        "TransferSyntaxUID": dicom.transfer_syntax_uid,
        "NumberOfFrames": dicom.n_frames,
        "frame": dicom.frame,
    }
    return HeaderFacts(
        patient_id=str(ds.get("PatientID", "") or "").strip(),
        patient_name=str(ds.get("PatientName", "") or ""),
        acquired_at=acquired_at(ds),
        side=SIDES.get(laterality),
        organ=body_part.lower() if body_part.lower() in KNOWN_ORGANS else None,
        body_part=body_part,
        manufacturer=dicom.manufacturer,
        uids=uids,
    )


def acquired_at(ds) -> dt.datetime | None:
    """Acquisition, else content, else study date and time; ``None`` when absent or unreadable."""
    pairs = [("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"), ("StudyDate", "StudyTime")]
    text = str(ds.get("AcquisitionDateTime", "") or "")[:14]
    candidates = [text] + [str(ds.get(d, "") or "") + str(ds.get(t, "") or "")[:6] for d, t in pairs]
    for value in candidates:
        value = value.split(".")[0]
        for fmt in ("%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d"):
            try:
                return dt.datetime.strptime(value, fmt)
            except ValueError:
                continue
    return None


def cropped_gray(pixels: np.ndarray, crop: CropBox, name: str = "image") -> np.ndarray:
    """The crop area as ``(h, w)`` uint8 gray: what is stored as the case's B-mode."""
    box = crop.validate(pixels.shape[0], pixels.shape[1], name)
    return np.rint(to_gray(box.apply(pixels)) * 255).astype(np.uint8)


@dataclass
class FolderReport:
    imported: list[tuple[str, str]] = field(default_factory=list)  # (file, case id)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, existing case id)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def summary(self) -> str:
        return f"{len(self.imported)} imported, {len(self.duplicates)} duplicate(s), {len(self.failed)} failed"


class Intake:
    """The pipeline bound to one store and the installation's settings (pseudonym key, patient-id setting)."""

    def __init__(self, store, settings=None) -> None:
        if settings is None:
            from usegan.settings import get_settings

            settings = get_settings()
        self.store = store
        self.settings = settings
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = pseudonym_key(self.settings.data_dir)
        return self._key

    def pseudonym(self, patient_id: str | None) -> str | None:
        """The keyed pseudonym of a raw Patient ID (an existing pseudonym is kept); ``None`` for none."""
        return pseudonym(patient_id, self.key)

    def read(self, data: bytes, name: str, *, frame: int = 0) -> IntakeImage:
        return read_intake(data, name, frame=frame, max_pixels=self.settings.max_image_pixels)

    def find_existing(self, image: IntakeImage) -> str | None:
        """The case already holding this DICOM instance (or, for a plain image, this exact file), or ``None``."""
        if image.header.sop_instance_uid:
            return self.store.find_case_by_sop_uid(image.header.sop_instance_uid)
        return self.store.find_case_by_original(image.sha256)

    def create_case(
        self,
        image: IntakeImage,
        *,
        user: str,
        crop: CropBox | None = None,
        organ: str | None = None,
        side: str | None = None,
        patient_id: str | None = None,
        notes: str = "",
        source: str | None = None,
        default_organ: str = Organ.BREAST,
        lesion_type: str | None = None,
    ) -> str:
        """Store ``image`` as a new case; returns its id.

        ``crop`` defaults to the suggested image area; ``organ`` / ``side`` to the header's, then
        ``default_organ``. ``patient_id`` (typed by a user, raw or already a pseudonym) wins over the header's
        Patient ID; either is stored only as its keyed pseudonym.
        """
        crop = crop or image.suggested_crop
        # A large capture is stored as its reading copy (the file itself stays the case's original), so opening
        # the case and every measurement on it cost what they cost on a small image; mm follow the new pixel size.
        bmode, factor = reading_copy(cropped_gray(image.pixels, crop, image.name))
        raw_id = str(patient_id or "").strip() or image.header.patient_id
        header_organ = image.header.organ
        organ = organ or header_organ or default_organ
        if organ not in KNOWN_ORGANS:
            raise ValueError(f"organ must be one of {KNOWN_ORGANS}, got {organ!r}")
        facts = [notes.strip()] if notes and notes.strip() else []
        if image.is_dicom and source in (None, "dicom") and not notes:
            facts.append(f"from {image.header.manufacturer or 'an unnamed scanner'}")
            if image.n_frames > 1:
                facts.append(f"frame {image.frame + 1} of {image.n_frames}")
            if header_organ is None:
                stated = image.header.body_part.upper() or "empty"
                facts.append(f"organ not stated (BodyPartExamined={stated}), assumed {organ}")
        crop_note = {"region": "scanner region", "screen": "detected screen image area", "whole": "whole image"}
        if crop != image.suggested_crop:
            facts.append(f"{CROP_FACT}set by user")
        elif image.crop_source in crop_note:
            facts.append(f"{CROP_FACT}{crop_note[image.crop_source]}")
        return self.store.create_case(
            bmode,
            organ=organ,
            created_by=user,
            side=side or image.header.side,
            source=source or ("dicom" if image.is_dicom else "upload"),
            patient_id=self.pseudonym(raw_id),
            patient_name=image.header.patient_name or None,
            patient_real_id=raw_id if raw_id and self.settings.store_patient_ids else None,
            acquired_at=image.header.acquired_at,
            original_bytes=image.original,
            original_name=image.name,
            notes="; ".join(facts),
            dicom_uids=image.header.uids,
            crop=(crop.x, crop.y, crop.w, crop.h),
            pixel_spacing_mm=scaled_spacing(image.spacing_mm, factor),
            spacing_source=image.spacing_source,
            lesion_type=lesion_type,
        )

    def recrop(
        self, case_id: str, crop: CropBox, *, user: str, reason: str = "", expected_sha: str | None = None
    ) -> str:
        """Re-crop a case from its original file (a new derived B-mode; original kept; audited). ``expected_sha``:
        the B-mode the crop was chosen on; refused (``StaleImageError``) when the case was re-cropped since."""
        case = self.store.get_case(case_id)
        original = case.original_bytes()
        if original is None:
            raise ValueError(f"case {case_id} has no original file to crop again")
        frame = int((case.dicom_uids or {}).get("frame", 0) or 0)
        image = self.read(original, case.original_name or case_id, frame=frame)
        bmode, factor = reading_copy(cropped_gray(image.pixels, crop, image.name))
        spacing = scaled_spacing(image.spacing_mm, factor)
        if spacing is None and case.pixel_spacing_mm is not None and case.crop:
            # A reader's calibration of the old B-mode: the same original pixels, stored now at this crop's scale
            # (a large capture's reading copy shrinks by a factor that depends on the crop's size).
            (row_mm, col_mm), (_, _, old_w, old_h) = case.pixel_spacing_mm, case.crop
            spacing = (row_mm * case.height / old_h / factor, col_mm * case.width / old_w / factor)
        return self.store.recrop_case(
            case_id, bmode, (crop.x, crop.y, crop.w, crop.h), by=user, reason=reason, pixel_spacing_mm=spacing,
            expected_sha=expected_sha,
        )  # fmt: skip

    def create_sample_case(self, sample, *, user: str, organ: str = Organ.BREAST, patient_id: str | None = None) -> str:
        """A bundled sample (``usegan.services.intake.SampleInfo``) as a case with its true elastograms attached.

        Cropped to the sample's elastography box, calibrated from its ``mm_per_px``."""
        from usegan.imageio import load_image

        bmode = np.asarray(load_image(sample.folder / "bmode.png"))
        if bmode.ndim == 3:
            bmode = np.rint(to_gray(bmode) * 255).astype(np.uint8)
        box = sample.meta.get("box") or {"x": 0, "y": 0, "w": bmode.shape[1], "h": bmode.shape[0]}
        crop = CropBox(int(box["x"]), int(box["y"]), int(box["w"]), int(box["h"])).clip(*bmode.shape[:2])
        crop = crop or CropBox.full(*bmode.shape[:2])
        mm = sample.meta.get("mm_per_px")
        spacing = (float(mm), float(mm)) if isinstance(mm, int | float) and mm > 0 else None
        image = IntakeImage(
            sample.name, (sample.folder / "bmode.png").read_bytes(), bmode, 0, 1, HeaderFacts(), crop, "sample",
            1.0, spacing, "sample" if spacing else None,
        )  # fmt: skip
        notes = f"Bundled phantom sample {sample.name}; lesion type: {sample.lesion_type}"
        lesion_type = sample.lesion_type if sample.lesion_type in values(LesionType) else None
        case_id = self.create_case(
            image, user=user, crop=crop, organ=organ, patient_id=patient_id, notes=notes, source="sample",
            lesion_type=lesion_type,
        )  # fmt: skip
        from usegan.intake.elastogram import attach_sample_truth

        attach_sample_truth(self.store, case_id, sample, crop, user=user)
        return case_id

    def import_folder(
        self, folder: str | Path, *, user: str, organ: str | None = None, patient_id: str | None = None
    ) -> FolderReport:
        """Import every image or DICOM file under ``folder`` (recursively, by name), each once.

        A file already imported (same SOP Instance UID, or the same bytes for a plain image) is reported as a
        duplicate; an unreadable one is reported with the reason and skipped. The files are left where they are.
        """
        from usegan.store import DuplicateCaseError

        root = Path(folder)
        if not root.is_dir():
            raise ValueError(f"{root}: not a folder")
        report = FolderReport()
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
            rel = str(path.relative_to(root))
            try:
                image = self.read(path.read_bytes(), path.name)
            except (ImageLoadError, OSError, ValueError) as exc:
                report.failed.append((rel, str(exc)))
                continue
            existing = self.find_existing(image)
            if existing is not None:
                report.duplicates.append((rel, existing))
                continue
            try:
                case_id = self.create_case(image, user=user, organ=organ, patient_id=patient_id)
            except DuplicateCaseError as exc:
                report.duplicates.append((rel, exc.case_id))
                continue
            except ValueError as exc:
                report.failed.append((rel, str(exc)))
                continue
            report.imported.append((rel, case_id))
        return report
