"""What a report shows: :class:`ReportData`, plus the colour distribution computed from an elastogram and ROI.

ROIs are a mapping ``name -> shape`` in pixel coordinates of the elastogram (the B-mode is scaled to match when
its size differs). A shape is a rectangle ``{"x", "y", "w", "h"}``, an ellipse ``{"cx", "cy", "rx", "ry"}`` or a
polygon ``{"points": [[x, y], ...]}``. The ROI named ``"lesion"`` (else the first one) bounds the distribution.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from usegan.colormaps import Colormap
from usegan.provenance import Provenance
from usegan.vocab import Mode, ReviewStatus, values

# Display-only split of normalised strain into thirds for the chart (scoring uses its own, cited thresholds).
STRAIN_BANDS = (("hard", 0.0, 1 / 3), ("intermediate", 1 / 3, 2 / 3), ("soft", 2 / 3, 1.0 + 1e-9))
SWE_BINS = 6  # kPa histogram bins across the colour scale


@dataclass(frozen=True)
class ReportData:
    case_id: str
    patient_pseudonym: str
    exam_date: dt.datetime | dt.date | None
    organ: str
    bmode: np.ndarray  # (H, W) or (H, W, 3) uint8
    elastogram: np.ndarray  # (H, W, 3) uint8, virtual (generated)
    mode: str  # "strain" or "swe"
    model_version: str
    checkpoint_sha256: str
    side: str | None = None
    rois: dict = field(default_factory=dict)  # name -> rectangle / ellipse / polygon, elastogram pixels
    colour_scale: dict | None = None  # {"vmin": .., "vmax": ..}; SWE defaults to 0-180 kPa
    distribution: dict | None = None  # label -> fraction in [0, 1]; None = computed from the lesion ROI
    proposal: dict | None = None  # ScoreResult.to_dict(): system, score, label, figures, reason, algorithm_version
    confirmed_score: int | None = None  # the clinician's score, kept apart from the proposal
    conclusion: str = ""
    reviewer: str | None = None
    signed_at: dt.datetime | None = None  # None = draft, printed as such
    status: str = ReviewStatus.DRAFT  # a ReviewStatus
    amend_reason: str | None = None
    notes: str = ""
    provenance: Provenance | None = None  # the model's training data (usegan.provenance); None = not recorded
    scale: str | None = None  # the confirmed score's scale key (usegan.scoring.systems), e.g. "tsukuba"
    version: int = 1  # reading version: 1 = original, 2.. = amendments
    pixel_spacing_mm: float | tuple[float, float] | None = None  # mm per pixel (or (row, column)): sizes in mm
    department: str = "Ultrasound Department"  # header, from settings.department
    language: str = "en"  # "en" or "zh"
    uncertainty: np.ndarray | None = None  # (H, W) float32 model SD in the scale's units, as the elastogram; None =
    # the ROI confidence falls back to the colour-map distance, as on the review page
    recrop: tuple[int, int, int, int] | None = None  # (x, y, w, h) of the original the B-mode was re-cropped to
    # after intake (e.g. to frame the lesion); None = the image area chosen at intake

    def __post_init__(self) -> None:
        for name, arr, colour in (("bmode", self.bmode, False), ("elastogram", self.elastogram, True)):
            a = np.asarray(arr)
            ok = (a.ndim == 3 and a.shape[2] == 3) or (a.ndim == 2 and not colour)
            if a.dtype != np.uint8 or not ok:
                raise ValueError(
                    f"{name} must be a uint8 {'(H, W, 3)' if colour else '(H, W) or (H, W, 3)'} "
                    f"array, got {a.dtype} {a.shape}"
                )
        if self.mode not in values(Mode):
            raise ValueError(f"mode must be 'strain' or 'swe', got {self.mode!r}")
        if self.uncertainty is not None and np.shape(self.uncertainty) != np.shape(self.elastogram)[:2]:
            raise ValueError(
                f"uncertainty {np.shape(self.uncertainty)} must match the elastogram's {np.shape(self.elastogram)[:2]}"
            )
        if self.language not in ("en", "zh"):
            raise ValueError(f"language must be 'en' or 'zh', got {self.language!r}")
        for name, shape in self.rois.items():
            if not isinstance(shape, dict) or not (
                {"x", "y", "w", "h"} <= shape.keys() or {"cx", "cy", "rx", "ry"} <= shape.keys() or "points" in shape
            ):
                raise ValueError(f"ROI {name!r} must be a rectangle, ellipse or polygon dict, got {shape!r}")

    def colormap(self):
        return Colormap.from_scale(self.mode, self.colour_scale)

    @cached_property
    def inverted(self) -> tuple[np.ndarray, np.ndarray]:
        """The elastogram read back through its colour map, ``(scalar, distance)`` (H, W) each: once per report,
        for the colour distribution and the ROI confidence."""
        return self.colormap().invert(self.elastogram)


def main_roi(rois: dict) -> tuple[str, dict] | None:
    """The ROI that bounds the distribution: ``"lesion"`` if present, else the first."""
    if not rois:
        return None
    name = "lesion" if "lesion" in rois else next(iter(rois))
    return name, rois[name]


def roi_mask(shape: dict, height: int, width: int, role: str = "") -> np.ndarray:
    """(H, W) bool mask of one stored ROI, made as the review page makes it (:mod:`usegan.scoring.roi`): the
    ``"lesion"`` as it is scored (a rectangle's inscribed ellipse), other roles as drawn; empty when the ROI has no
    pixel in the image or cannot be read (entries the page drops, :func:`usegan.ui.roi_canvas.rois_from_json`)."""
    from usegan.scoring.roi import RoiError, roi_from_dict, role_mask

    try:
        return role_mask(roi_from_dict(shape), (height, width), role)
    except (RoiError, KeyError, TypeError, ValueError):
        return np.zeros((height, width), dtype=bool)


def colour_distribution(data: ReportData) -> tuple[list[tuple[str, float, float]], float]:
    """``([(label, fraction, scalar at bar colour), ...], unknown_fraction)`` inside the main ROI (or the image).

    Strain: hard / intermediate / soft thirds of normalised strain. SWE: a kPa histogram of ``SWE_BINS`` bins.
    Fractions are of the pixels whose colour is on the map; ``unknown_fraction`` is the rest.
    """
    cmap = data.colormap()
    if data.distribution is not None:
        items = list(data.distribution.items())
        span = np.linspace(cmap.vmin, cmap.vmax, len(items)) if len(items) > 1 else [cmap.vmin]
        return [(str(k), float(v), float(s)) for (k, v), s in zip(items, span, strict=True)], 0.0
    values, _ = data.inverted
    picked = main_roi(data.rois)
    height, width = values.shape[:2]
    mask = np.ones(values.shape, bool) if picked is None else roi_mask(picked[1], height, width, role=picked[0])
    inside = values[mask]
    known = inside[~np.isnan(inside)]
    unknown = 1.0 - known.size / max(inside.size, 1)
    total = max(known.size, 1)
    if data.mode == Mode.STRAIN:
        bars = [
            (label, float(((known >= lo) & (known < hi)).sum() / total), (lo + min(hi, 1.0)) / 2)
            for label, lo, hi in STRAIN_BANDS
        ]
    else:
        edges = np.linspace(cmap.vmin, cmap.vmax, SWE_BINS + 1)
        counts, _ = np.histogram(np.clip(known, cmap.vmin, cmap.vmax), bins=edges)
        bars = [
            (f"{edges[i]:.0f}-{edges[i + 1]:.0f}", float(counts[i] / total), float((edges[i] + edges[i + 1]) / 2))
            for i in range(SWE_BINS)
        ]
    return bars, float(unknown)
