"""New cases: an uploaded PNG/JPEG/DICOM (frame picker, suggested crop of a screen capture) or a bundled sample.

The stored B-mode is the cropped image area as 8-bit gray (what the model sees); the uploaded file is kept byte
for byte as the case's original. Bundled samples (``data/samples/<case>/``, written by
:mod:`usegan.phantom.writer`) also attach their true strain and SWE images as *real* elastograms, so the review
page can compare the virtual elastogram with the truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from usegan.imageio import load_image, to_gray
from usegan.preprocess import is_dicom, read_image
from usegan.screencrop import CropBox, suggest_crop
from usegan.vocab import LesionType, Mode, Organ, ScoreSystem, values


@dataclass(frozen=True)
class UploadPreview:
    """A decoded upload, before it becomes a case."""

    name: str  # file name as uploaded
    pixels: np.ndarray  # (H, W) or (H, W, 3|4) of the chosen frame, as decoded (uint8 / uint16 / float)
    frame: int  # chosen frame, 0-based
    n_frames: int  # frames in the file (1 for PNG/JPEG)
    suggested_crop: CropBox  # image area: the scanner's region (DICOM) or the screen-capture suggestion
    crop_confidence: float  # 1.0 for a scanner-declared region, else the suggestion's confidence
    dicom_uids: dict | None  # SOP/Study/Series instance UIDs for DICOM, else None
    patient_id: str  # from DICOM (PatientID), else ""

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


def read_upload(data: bytes, name: str, frame: int = 0, max_pixels: int | None = None) -> UploadPreview:
    """Decode uploaded bytes (PNG/JPEG/... or DICOM, any frame). Raises ``ImageLoadError`` naming the problem."""
    if is_dicom(bytes(data)):
        from usegan.dicomio import read_dicom
        from usegan.preprocess import _max_pixels

        dicom = read_dicom(bytes(data), frame=frame, max_pixels=_max_pixels(max_pixels))
        region = dicom.image_region()
        suggestion = None if region is not None else suggest_crop(dicom.pixels)
        uids = {
            "SOPInstanceUID": dicom.sop_instance_uid,
            "StudyInstanceUID": dicom.study_instance_uid,
            "SeriesInstanceUID": dicom.series_instance_uid,
            "frame": dicom.frame,
        }
        return UploadPreview(
            name, dicom.pixels, dicom.frame, dicom.n_frames, region or suggestion.box,
            1.0 if region is not None else suggestion.confidence, uids, dicom.patient_id,
        )  # fmt: skip
    pixels = read_image(bytes(data), frame=frame, max_pixels=max_pixels)
    suggestion = suggest_crop(pixels)
    return UploadPreview(name, pixels, frame, 1, suggestion.box, suggestion.confidence, None, "")


def cropped_gray(pixels: np.ndarray, crop: CropBox) -> np.ndarray:
    """The crop area as ``(h, w)`` uint8 gray: what is stored as the case's B-mode."""
    box = crop.validate(pixels.shape[0], pixels.shape[1], "upload")
    return np.rint(to_gray(box.apply(pixels)) * 255).astype(np.uint8)


def create_upload_case(
    store,
    preview: UploadPreview,
    original: bytes,
    *,
    crop: CropBox,
    organ: str,
    user: str,
    side: str | None = None,
    patient_id: str | None = None,
    notes: str = "",
) -> str:
    """Store an upload as a new case (cropped gray B-mode + the original file); returns the case id."""
    source = "dicom" if preview.dicom_uids else "upload"
    return store.create_case(
        cropped_gray(preview.pixels, crop), organ=organ, created_by=user, side=side or None, source=source,
        patient_id=patient_id or preview.patient_id or None, original_bytes=bytes(original),
        original_name=preview.name, notes=notes, dicom_uids=preview.dicom_uids,
        crop=(crop.x, crop.y, crop.w, crop.h),
    )  # fmt: skip


@dataclass(frozen=True)
class SampleInfo:
    """A bundled sample case folder."""

    name: str  # folder name
    folder: Path  # its location
    lesion_type: str  # phantom lesion type (cyst, fibroadenoma, malignant, ...)
    tsukuba: int | None  # true Tsukuba class from the phantom's strain
    meta: dict  # the folder's meta.json

    @property
    def title(self) -> str:
        truth = f", true Tsukuba {self.tsukuba}" if self.tsukuba is not None else ""
        return f"{self.name}: {self.lesion_type.replace('_', ' ')}{truth}"


def list_samples(samples_dir: str | Path) -> list[SampleInfo]:
    """Every readable sample folder under ``samples_dir`` (``bmode.png`` + ``meta.json``), by name."""
    root = Path(samples_dir)
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        meta_path = folder / "meta.json"
        if not (meta_path.is_file() and (folder / "bmode.png").is_file()):
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        labels = meta.get("labels") or {}
        lesion_type = labels.get("lesion_type") or (meta.get("params") or {}).get("lesion_type") or "unknown"
        out.append(SampleInfo(folder.name, folder, str(lesion_type), labels.get(ScoreSystem.TSUKUBA), meta))
    return out


def create_sample_case(store, sample: SampleInfo, user: str, organ: str = Organ.BREAST) -> str:
    """Store a bundled sample as a case (source ``sample``) with its true elastograms attached; returns the id.

    The case is the sample's elastography box (B-mode and true elastograms cropped to it, the crop recorded), as a
    scanner user would frame the region to examine: the virtual elastogram then covers the same region as the
    real one, at the scale the models were trained on. The case records the sample's lesion type
    (``Case.lesion_type``) so the research audit can group by it.
    """
    bmode = np.asarray(load_image(sample.folder / "bmode.png"))
    if bmode.ndim == 3:
        bmode = np.rint(to_gray(bmode) * 255).astype(np.uint8)
    box = sample.meta.get("box") or {"x": 0, "y": 0, "w": bmode.shape[1], "h": bmode.shape[0]}
    crop = CropBox(int(box["x"]), int(box["y"]), int(box["w"]), int(box["h"])).clip(*bmode.shape[:2])
    crop = crop or CropBox.full(*bmode.shape[:2])
    lesion_type = sample.lesion_type if sample.lesion_type in values(LesionType) else None
    notes = f"Bundled phantom sample {sample.name}; lesion type: {sample.lesion_type}"
    case_id = store.create_case(
        np.ascontiguousarray(crop.apply(bmode), dtype=np.uint8), organ=organ, created_by=user, source="sample",
        original_name=sample.name, notes=notes, crop=(crop.x, crop.y, crop.w, crop.h), lesion_type=lesion_type,
    )  # fmt: skip
    modes = sample.meta.get("modes") or {}
    for mode in Mode:
        path = sample.folder / f"{mode}.png"
        if not path.is_file():
            continue
        rgb = np.ascontiguousarray(crop.apply(np.asarray(load_image(path))[..., :3]), dtype=np.uint8)
        info = modes.get(mode) or {}
        scale = {k: info[k] for k in ("vmin", "vmax", "unit") if k in info} or None
        store.attach_real_elastogram(
            case_id, rgb, mode, "phantom truth (simulated)", created_by=user, colour_scale=scale
        )
    return case_id


def crop_mask(height: int, width: int, crop: CropBox) -> np.ndarray:
    """``(height, width)`` bool mask of a crop box (for drawing its outline); raises ``InvalidCropError``."""
    box = crop.validate(height, width, "upload")
    mask = np.zeros((height, width), dtype=bool)
    mask[box.y : box.bottom, box.x : box.right] = True
    return mask
