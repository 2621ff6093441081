"""Where the virtual elastogram can be trusted: a per-pixel quality map and the confidence of an ROI.

SWE consoles show a quality map, and readers who place their ROIs with it read better (AUC 0.932 vs 0.912, 368
lesions [Zheng20]). For a *virtual* elastogram the equivalent is the model's own uncertainty: where the B-mode
does not determine the stiffness, the generator guesses. :func:`quality_map` is the one place that decides it:

* with ``uncertainty`` (the model's predicted standard deviation per pixel, in the colour scale's units), the
  confidence is ``1 - sd / (UNSURE_SD_FRACTION[mode] x 2 x scale range)``, clipped to [0, 1] (unsure below 0.5,
  i.e. where the SD exceeds that fraction of the range: strain 0.15, SWE 0.25, chosen per mode by how well the
  caution falls on wrong readings and spares right ones on real scans; docs/fidelity.md, "Does the caution fall on
  the wrong readings?");
* without it (models that predict colours only), the stand-in is the **colour-map distance**: how far each
  generated colour lies from the nearest colour of the scale (CIE Delta E 1976, the same distance
  :meth:`usegan.colormaps.Colormap.invert` returns). A generator that is sure paints colours of the scale; between
  classes it blends them into colours off the scale. Confidence = ``1 - dE / UNKNOWN_DELTA_E``, clipped.

A pixel is *unsure* below :data:`UNSURE_BELOW` (0.5); an ROI mostly (> :data:`CAUTION_FRACTION`) unsure gets a
caution: "the B-mode does not determine the stiffness here".

**Framing** (:func:`framing`): a scanner's elastography box is placed around the lesion, and the models learnt
lesions framed that way. A lesion whose longer side is under :data:`SMALL_IN_FRAME` of the image's shorter side
gets a caution to re-crop the case to a box about three times the lesion: on the second simulator
(docs/fidelity.md, seed 2, strain v4) carcinomas that small in the whole image read hard in 3 of 17,
those larger in 28 of 33, and the same 50 framed in a box three times their size in 49.

[Zheng20] Zheng et al. 2020, breast SWE with and without the quality map, 368 lesions, as quoted in the project's
docs/domain.md section 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.colormaps import UNKNOWN_DELTA_E, Colormap

UNSURE_BELOW = 0.5  # confidence below this = the model is unsure at that pixel
CAUTION_FRACTION = 0.5  # an ROI with more than this fraction of unsure pixels gets a caution
# with a predicted SD: unsure where the SD exceeds this fraction of the colour scale's range, per mode. SWE: 0.25,
# chosen on 67 real scans with hybrid lesions and confirmed on 66 others (Youden's J of wrong against right readings
# cautioned 0.49 -> 0.60; at 0.15 the caution fell on nearly every stiff region, true carcinomas included); strain
# keeps 0.15: no threshold separated its wrong readings from its right ones (J <= 0.11; docs/fidelity.md).
UNSURE_SD_FRACTION = {"strain": 0.15, "swe": 0.25}
CAUTION_TEXT = "the B-mode does not determine the stiffness here"
# Said where the model's uncertainty gives no caution: of the carcinomas drawn into real lesion-free scans that the
# models read soft, most got none (docs/fidelity.md, "Does the caution fall on the wrong readings?").
NO_CAUTION_EVIDENCE = "of the carcinomas drawn into real scans that the models read soft, most got no caution"
NO_CAUTION_TEXT = f"no caution is no reassurance: {NO_CAUTION_EVIDENCE}"
SMALL_IN_FRAME = 0.25  # lesion's longer side / image's shorter side below which the framing caution shows
FRAME_FACTOR = 3.0  # an elastography box framing a lesion: a square this many times its longer side
FRAMING_TEXT = (
    "the lesion is small in the frame, where readings were less reliable: see the lesion's framed reading (a box "
    f"about {FRAME_FACTOR:g}x the lesion) beside the proposal; a case not yet read can be re-cropped to that box"
)


@dataclass(frozen=True)
class QualityMap:
    """Per-pixel confidence of a virtual elastogram."""

    confidence: np.ndarray  # (H, W) float32 in [0, 1], 1 = sure; NaN outside the colour box
    source: str  # "model uncertainty" or "colour-map distance"

    @property
    def unsure(self) -> np.ndarray:
        """``(H, W)`` bool: pixels where the model is unsure (outside the box: False)."""
        return np.nan_to_num(self.confidence, nan=1.0) < UNSURE_BELOW


def quality_map(
    distance: np.ndarray | None,
    colormap: Colormap,
    uncertainty: np.ndarray | None = None,
    inside: np.ndarray | None = None,
    sd_fraction: float | None = None,
) -> QualityMap:
    """The quality map of one elastogram.

    Args:
        distance: ``(H, W)`` float colour-map distance (Delta E) from ``colormap.invert``; may be None with an
            ``uncertainty`` (which then decides alone: no need to invert the image).
        colormap: the scale the elastogram was drawn in (its range sets the uncertainty's scale).
        uncertainty: ``(H, W)`` float predicted SD in the scale's units (strain 0..1, SWE kPa), or None.
        inside: ``(H, W)`` bool, the colour box (pixels outside get NaN); None = everywhere.
        sd_fraction: with ``uncertainty``, a pixel is unsure where the SD exceeds this fraction of the scale's range;
            None: :data:`UNSURE_SD_FRACTION` of the colour map's mode (``scripts/caution_threshold.py`` measures what
            other values would flag).
    """
    if distance is None and uncertainty is None:
        raise ValueError("quality_map needs a colour-map distance or an uncertainty map, got neither")
    distance = np.asarray(uncertainty if distance is None else distance, dtype=np.float32)
    if distance.ndim != 2:
        raise ValueError(f"distance must be (H, W), got shape {distance.shape}")
    if uncertainty is not None:
        sd = np.asarray(uncertainty, dtype=np.float32)
        if sd.shape != distance.shape:
            raise ValueError(f"uncertainty {sd.shape} must match the elastogram's {distance.shape}")
        sd_fraction = UNSURE_SD_FRACTION[colormap.mode] if sd_fraction is None else sd_fraction
        if not sd_fraction > 0:
            raise ValueError(f"sd_fraction must be positive, got {sd_fraction!r}")
        full_scale = 2 * sd_fraction * (colormap.vmax - colormap.vmin)
        confidence, source = 1.0 - np.nan_to_num(sd, nan=np.inf) / full_scale, "model uncertainty"
    else:
        confidence, source = 1.0 - distance / UNKNOWN_DELTA_E, "colour-map distance"
    confidence = np.clip(confidence, 0.0, 1.0).astype(np.float32)
    if inside is not None:
        inside = np.asarray(inside, dtype=bool)
        if inside.shape != distance.shape:
            raise ValueError(f"inside mask {inside.shape} must match the elastogram's {distance.shape}")
        confidence[~inside] = np.nan
    return QualityMap(confidence, source)


@dataclass(frozen=True)
class RoiConfidence:
    """How much of an ROI lies where the model is sure."""

    mean: float  # mean confidence over the ROI's box pixels, 0..1
    unsure_fraction: float  # fraction of those pixels that are unsure
    source: str  # where the confidence comes from (QualityMap.source)

    @property
    def caution(self) -> bool:
        return self.unsure_fraction > CAUTION_FRACTION

    @property
    def no_caution_is_no_reassurance(self) -> bool:
        """No caution from the model's uncertainty, which on real scans missed most carcinomas read soft
        (:data:`NO_CAUTION_TEXT`); the colour-map stand-in was not measured so."""
        return not self.caution and self.source == "model uncertainty"

    def describe(self) -> str:
        text = f"ROI confidence {self.mean:.0%} ({self.unsure_fraction:.0%} of the ROI unsure; {self.source})"
        if self.caution:
            return f"{text}. Caution: {CAUTION_TEXT}."
        return f"{text}; {NO_CAUTION_TEXT}." if self.no_caution_is_no_reassurance else text


def roi_confidence(quality: QualityMap, mask: np.ndarray) -> RoiConfidence | None:
    """Confidence of the ROI ``mask`` (H, W) bool; None when it has no pixel inside the colour box."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != quality.confidence.shape:
        raise ValueError(f"ROI mask {mask.shape} must match the quality map's {quality.confidence.shape}")
    values = quality.confidence[mask]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return RoiConfidence(float(values.mean()), float(np.mean(values < UNSURE_BELOW)), quality.source)


@dataclass(frozen=True)
class Framing:
    """How large the lesion is in the frame the model read (the case image)."""

    fraction: float  # the lesion ROI's longer side / the image's shorter side, > 0
    box: tuple[int, int, int, int]  # the lesion ROI's bounding box (x, y, w, h) in image pixels
    shape: tuple[int, int]  # the image's (height, width)

    @property
    def caution(self) -> bool:
        return self.fraction < SMALL_IN_FRAME

    def describe(self) -> str:
        text = f"Lesion spans {self.fraction:.0%} of the frame"
        return f"{text}. Caution: {FRAMING_TEXT}." if self.caution else text


def framing(
    mask: np.ndarray, frame_shape: tuple[int, int] | None = None, origin: tuple[int, int] = (0, 0)
) -> Framing | None:
    """The framing of the lesion ROI ``mask`` (h, w) bool; None for an empty mask.

    ``mask`` covers the whole image (``frame_shape`` None) or a window of an image of ``frame_shape`` (H, W) whose
    top-left pixel is at ``origin`` (x, y) of the image: the reading tools measure on a window around the ROIs, and
    a 36 MP mask costs tens of milliseconds per page run to scan.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"ROI mask must be (H, W), got shape {mask.shape}")
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    height, width = frame_shape or mask.shape
    w, h = int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1
    box = (int(cols.min()) + origin[0], int(rows.min()) + origin[1], w, h)
    return Framing(float(max(w, h) / min(height, width)), box, (int(height), int(width)))


def framed_box(
    lesion: tuple[float, float, float, float],
    frame_shape: tuple[int, int],
    factor: float = FRAME_FACTOR,
    min_side: int = 1,
) -> tuple[int, int, int]:
    """``(x, y, side)`` of the square that frames ``lesion`` (x, y, w, h, pixels) as an elastography box is placed:
    ``factor`` times its longer side (at least ``min_side``, at most the frame's shorter side), centred on it and
    moved inside a frame of ``frame_shape`` (H, W)."""
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor!r}")
    x, y, w, h = lesion
    height, width = frame_shape
    if height < 1 or width < 1 or w <= 0 or h <= 0:
        raise ValueError(f"a lesion box {lesion} in a {width}x{height} frame cannot be framed")
    side = int(min(max(round(factor * max(w, h)), min_side, 1), height, width))
    left = min(max(round(x + w / 2 - side / 2), 0), width - side)
    top = min(max(round(y + h / 2 - side / 2), 0), height - side)
    return int(left), int(top), side
