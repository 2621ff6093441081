"""New cases: an uploaded PNG/JPEG/DICOM (frame picker, suggested crop of a screen capture) or a bundled sample.

Every path goes through the one intake pipeline (:mod:`usegan.intake.pipeline`): pseudonymised with the
installation's key, cropped, calibrated in mm where the file says how.

The stored B-mode is the cropped image area as 8-bit gray (what the model sees); the uploaded file is kept byte
for byte as the case's original. Bundled samples (``data/samples/<case>/``, written by
:mod:`usegan.phantom.writer`) also attach their true strain and SWE images as *real* elastograms, so the review
page can compare the virtual elastogram with the truth.

A case created with the wrong image area is re-cropped from its original (:func:`open_for_recrop`,
:func:`recrop_case`); one created by mistake is withdrawn with a reason (:func:`withdraw_case`): kept in the archive
and the audit log, off the worklist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from usegan.intake.pipeline import Intake, IntakeImage, cropped_gray, read_intake  # noqa: F401  (re-exported)
from usegan.scoring.confidence import FRAME_FACTOR, framed_box
from usegan.screencrop import CropBox
from usegan.vocab import CaseStatus, Organ, ScoreSystem

UploadPreview = IntakeImage  # a decoded upload before it becomes a case (name kept for the pages)


def read_upload(data: bytes, name: str, frame: int = 0, max_pixels: int | None = None) -> IntakeImage:
    """Decode uploaded bytes (PNG/JPEG/... or DICOM, any frame). Raises ``ImageLoadError`` naming the problem."""
    return read_intake(data, name, frame=frame, max_pixels=max_pixels)


def suggested_patient_id(store, preview: IntakeImage, settings=None) -> str:
    """What the New-case form pre-fills: the keyed pseudonym of the file's Patient ID (never the raw id), or ""."""
    return Intake(store, settings).pseudonym(preview.header.patient_id) or ""


def create_upload_case(
    store,
    preview: IntakeImage,
    original: bytes | None = None,
    *,
    crop: CropBox,
    organ: str,
    user: str,
    side: str | None = None,
    patient_id: str | None = None,
    notes: str = "",
    settings=None,
) -> str:
    """Store an upload as a new case through the intake pipeline (pseudonymised, cropped, calibrated)."""
    if original is not None and bytes(original) != preview.original:
        raise ValueError("the original bytes do not match the previewed file")
    return Intake(store, settings).create_case(
        preview, user=user, crop=crop, organ=organ, side=side or None, patient_id=patient_id, notes=notes
    )


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


def create_sample_case(store, sample: SampleInfo, user: str, organ: str = Organ.BREAST, settings=None) -> str:
    """Store a bundled sample as a case (source ``sample``) with its true elastograms attached; returns the id.

    The case is the sample's elastography box (B-mode and true elastograms cropped to it, the crop recorded), as a
    scanner user would frame the region to examine: the virtual elastogram then covers the same region as the
    real one, at the scale the models were trained on. The case records the sample's lesion type
    (``Case.lesion_type``) so the research audit can group by it. Goes through
    :meth:`usegan.intake.pipeline.Intake.create_sample_case`.
    """
    return Intake(store, settings).create_sample_case(sample, user=user, organ=organ)


def crop_mask(height: int, width: int, crop: CropBox) -> np.ndarray:
    """``(height, width)`` bool mask of a crop box (for drawing its outline); raises ``InvalidCropError``."""
    box = crop.validate(height, width, "upload")
    mask = np.zeros((height, width), dtype=bool)
    mask[box.y : box.bottom, box.x : box.right] = True
    return mask


CROP_COLOUR = "#ff9900"  # the image area that will be kept (orange)
CURRENT_CROP_COLOUR = "#3d9df2"  # a case's stored image area, while a new one is chosen (blue)


def crop_preview(pixels: np.ndarray, crop: CropBox, current: CropBox | None = None) -> np.ndarray:
    """``(H, W, 3)`` uint8: ``pixels`` with the crop outlined in orange and ``current`` in blue under it, its line twice
    as wide, so that a blue band stays beside the orange line where the two boxes coincide.

    The line is thick enough to stay visible when a large capture is shown scaled down. Raises
    ``InvalidCropError`` naming the problem when ``crop`` does not fit the image."""
    from usegan.ui.overlay import outline

    height, width = pixels.shape[:2]
    line = max(2, round(max(height, width) / 200))
    crop_area = crop_mask(height, width, crop)
    shown = pixels
    if current is not None and (now := current.clip(height, width)) is not None:
        shown = outline(pixels, {"current": crop_mask(height, width, now)}, {"current": CURRENT_CROP_COLOUR}, 2 * line)
    return outline(shown, {"crop": crop_area}, {"crop": CROP_COLOUR}, width=line)


# --- correcting a case: re-crop, withdraw ------------------------------------------------------------------------
CORRECTABLE = (CaseStatus.NEW, CaseStatus.GENERATED, CaseStatus.DRAFT)  # signed readings are amended instead
RECROPPABLE = (CaseStatus.NEW, CaseStatus.GENERATED)  # a draft was read on the current image


@dataclass(frozen=True)
class RecropView:
    """A stored case's original file with its current image area, as the re-crop controls show it."""

    case_id: str
    status: str  # the case's status: re-crop only before any reading (see :data:`RECROPPABLE`)
    image: IntakeImage  # the original file, decoded (the frame the case was made from)
    crop: CropBox  # the image area the case's B-mode was cut from
    version: str  # changes with every re-crop (fresh controls for the new image area)
    bmode_sha: str | None = None  # the case's B-mode when opened: a re-crop made elsewhere since is refused

    @property
    def can_recrop(self) -> bool:
        return self.status in RECROPPABLE


def correctable_cases(store, limit: int = 200) -> list[str]:
    """Ids of the newest cases that can still be re-cropped or withdrawn (not withdrawn, no signed reading)."""
    return store.worklist(status=list(CORRECTABLE), limit=limit)["case_id"].tolist()


def framed_crop(
    view: RecropView, case_shape: tuple[int, int], lesion: CropBox, factor: float = FRAME_FACTOR
) -> CropBox:
    """The image area of the case's original that frames ``lesion`` as an elastography box is placed: a square
    ``factor`` times the lesion's longer side, centred on it and moved inside the case's image (at most its shorter
    side), in the original's pixels. The review page's framed reading (:mod:`usegan.services.framed`) previews
    that same square of the case's B-mode.

    ``lesion``: the lesion ROI's bounding box in the pixels of the case's B-mode, of shape ``case_shape``
    ``(height, width)``; the case's current crop (``view.crop``) maps those pixels to the original's. Small lesions
    in a large frame read less reliably (:data:`usegan.scoring.confidence.SMALL_IN_FRAME`).
    """
    height, width = case_shape
    if height < 1 or width < 1 or lesion.w < 1 or lesion.h < 1:
        raise ValueError(f"a lesion box {lesion} in a {width}x{height} case cannot be framed")
    x, y, side = framed_box((lesion.x, lesion.y, lesion.w, lesion.h), case_shape, factor)
    return box_in_original(view, case_shape, CropBox(x, y, side, side))


def box_in_original(view: RecropView, case_shape: tuple[int, int], box: CropBox) -> CropBox:
    """``box`` in the pixels of the case's B-mode (of shape ``case_shape`` (height, width)) as an image area of the
    case's original: the case's current crop (``view.crop``) maps one to the other. Clipped to the original."""
    height, width = case_shape
    sx, sy = view.crop.w / width, view.crop.h / height  # case pixels -> the original's
    mapped = CropBox(
        view.crop.x + round(box.x * sx), view.crop.y + round(box.y * sy), max(1, round(box.w * sx)),
        max(1, round(box.h * sy)),
    )  # fmt: skip
    clipped = mapped.clip(view.image.height, view.image.width)
    if clipped is None:
        raise ValueError(f"box {box} of the {width}x{height} case is outside its original")
    return clipped


def open_for_recrop(store, case_id: str, settings=None) -> RecropView:
    """The case's original file and current crop; ``ValueError`` when there is no original to crop again."""
    case = store.get_case(case_id)
    original = case.original_bytes()
    if original is None:
        raise ValueError(f"case {case_id} has no original file to crop again")
    frame = int((case.dicom_uids or {}).get("frame", 0) or 0)
    image = Intake(store, settings).read(original, case.original_name or case_id, frame=frame)
    version = f"{case.cropped_at:%Y%m%d%H%M%S%f}" if case.cropped_at else "0"
    return RecropView(case_id, case.status, image, _crop_of(case, image), version, case.bmode_sha)


def _crop_of(case, image: IntakeImage) -> CropBox:
    """The image area of the original ``image`` that ``case``'s B-mode was cut from."""
    return CropBox(*(int(v) for v in case.crop)) if case.crop else CropBox.full(image.height, image.width)


def recrop_case(
    store, case_id: str, crop: CropBox, *, user: str, reason: str = "", settings=None, expected_sha: str | None = None
) -> str:
    """Cut a new B-mode from the case's original (the old one kept, audited); returns the new image's sha.
    ``expected_sha``: the case's B-mode the crop was chosen on (:attr:`RecropView.bmode_sha`); when the case was
    re-cropped since (another tab or user), ``StaleImageError`` and nothing changes."""
    return Intake(store, settings).recrop(case_id, crop, user=user, reason=reason.strip(), expected_sha=expected_sha)


def recrop_to_box(store, case, box: CropBox, *, user: str, reason: str, settings=None) -> str:
    """Re-crop ``case`` (the stored case as a page showed it) to ``box``, given in the pixels of that B-mode; returns
    the new image's sha. The box is mapped to the original through the crop of the image shown, and the re-crop is
    refused (``StaleImageError``, nothing changed) when the case was re-cropped since."""
    view = open_for_recrop(store, case.case_id, settings)
    shown = replace(view, crop=_crop_of(case, view.image))
    crop = box_in_original(shown, (case.height, case.width), box)
    return recrop_case(
        store, case.case_id, crop, user=user, reason=reason, settings=settings, expected_sha=case.bmode_sha
    )


def withdraw_case(store, case_id: str, reason: str, *, user: str) -> None:
    """Withdraw a case created by mistake: kept in the archive and the audit log, off the worklist."""
    store.withdraw_case(case_id, reason, by=user)


def withdrawn_cases(store, limit: int = 50):
    """The newest withdrawn cases (``case_id, created_at, withdrawn_at, withdrawn_by, withdraw_reason``)."""
    return store.withdrawn_cases(limit=limit)
