"""The review page's reading tools: what the reader drew -> millimetres, strain ratio, Q-box, E/B ratio, quality.

One call per page run, :func:`read`, turns the canvas's :class:`~usegan.ui.roi_canvas.Marks` into a
:class:`Reading` with every number the tools show; the drawing helpers below make the images the page shows
(same-depth guide line, Emax marker, quality map). Nothing here imports Streamlit.

The lesion region is the one the proposal scores (:func:`usegan.scoring.roi.lesion_mask`: a rectangle is its
inscribed ellipse), so the outline, the colour chart, the measurements and the score describe the same pixels.
Circles (fat reference, Q-box) take the diameter the reader chose, in mm, when the pixel spacing is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image, ImageDraw

from usegan.colormaps import Colormap
from usegan.scoring.confidence import Framing, QualityMap, RoiConfidence, framing, quality_map, roi_confidence
from usegan.scoring.geometry import Axes, PixelSpacing, circle_mm, distance_mm
from usegan.scoring.measurements import (
    EBRatio,
    QBoxMeasurement,
    StrainRatioMeasurement,
    eb_ratio,
    lesion_size,
    measure_qbox,
    measure_strain_ratio,
)
from usegan.scoring.roi import Ellipse, RoiError, role_mask
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS
from usegan.services.service import GenerationCache
from usegan.services.windows import around
from usegan.ui.figures import inverted
from usegan.ui.overlay import as_rgb
from usegan.ui.roi_canvas import COLOURS, Marks

MAX_MEASUREMENTS = 5  # strain-ratio measurements kept per case and mode (consoles average about three)
GUIDE_COLOUR = (255, 212, 0)  # the same-depth guide line, in the lesion's yellow
UNSURE_COLOUR = (255, 0, 200)  # quality map: where the model is unsure


SPACING_SOURCES = {
    "region": "scanner's ultrasound region",
    "pixel_spacing": "DICOM Pixel Spacing",
    "user": "calibrated by a reader",
    "sample": "phantom sample",
}


def spacing_of(case) -> PixelSpacing | None:
    """The case's pixel spacing (set at intake or by a reader's calibration), or None when it is unknown."""
    if case.pixel_spacing_mm is None:
        return None
    source = SPACING_SOURCES.get(case.spacing_source or "", case.spacing_source or "unknown source")
    return PixelSpacing.of(case.pixel_spacing_mm, source)


def save_calibration(store, case_id: str, spacing: PixelSpacing, user: str) -> None:
    """Keep a reader's calibration with the case (audited by the store), for every later reading and report."""
    store.set_pixel_spacing(case_id, (spacing.row_mm, spacing.col_mm), "user", by=user)


UNCERTAINTY_CACHE = GenerationCache(max_items=32)  # (B-mode sha, model version, mode) -> (SD map or None,)


def model_uncertainty(case, generation, elastographer, cache: GenerationCache | None = None) -> np.ndarray | None:
    """The model's per-pixel standard deviation for the case's virtual elastogram, ``(H, W)`` float32 in the colour
    scale's units, or None when the model predicts none (the quality map then uses the colour-map distance).

    The map stored with ``generation`` when it has one (no model run, any model loaded). A generation stored before
    maps were kept asks the model that made it, and only that one (another version's uncertainty would describe
    another image); that answer is cached per (image, model version, mode) and process, None included.
    """
    cache = UNCERTAINTY_CACHE if cache is None else cache
    if generation is not None and getattr(generation, "has_uncertainty", False):
        key = (generation.uncertainty_sha, generation.uncertainty_step)
        hit = cache.get(key)
        if hit is None:  # decoding the 16-bit PNG of a 1024 px reading copy costs ~20 ms: once per process
            hit = (generation.uncertainty(),)
            cache.put(key, hit)
        sd = hit[0]
        return sd if sd.shape == (case.height, case.width) else None
    if elastographer is None or generation is None or elastographer.info.version != generation.model_version:
        return None
    model_key = (case.bmode_sha, generation.model_version, generation.mode)
    hit = cache.get(model_key)
    if hit is None:
        # Checkpoints from before the uncertainty head generate no ``uncertainty``.
        sd = getattr(elastographer.generate(case.bmode()), "uncertainty", None)
        hit = (None if sd is None else np.asarray(sd, dtype=np.float32),)
        cache.put(model_key, hit)
    sd = hit[0]
    return sd if sd is not None and sd.shape == (case.height, case.width) else None


def sized_circles(rois: dict, spacing: PixelSpacing | None, diameters_mm: dict[str, float]) -> dict:
    """Circles of the roles in ``diameters_mm`` redrawn at that diameter around their centres (spacing known)."""
    if spacing is None:
        return dict(rois)
    out = dict(rois)
    for role, diameter in diameters_mm.items():
        roi = rois.get(role)
        if isinstance(roi, Ellipse):
            out[role] = circle_mm((roi.cx, roi.cy), diameter, spacing)
    return out


def scored_masks(rois: dict, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """``{role: (H, W) bool}``: the lesion as the score sees it, the other ROIs as drawn; unusable ones dropped."""
    masks = {}
    for role, roi in rois.items():
        try:
            masks[role] = role_mask(roi, shape, role)
        except RoiError:
            continue
    return masks


@dataclass(frozen=True)
class Reading:
    """Every number the reading tools show for one page run."""

    spacing: PixelSpacing | None
    rois: dict  # role -> ROI in image pixels, circles at their chosen diameter
    masks: dict  # role -> (H, W) bool, the lesion as scored
    quality: QualityMap
    strain_ratio: StrainRatioMeasurement | None = None  # lesion + fat reference (strain mode)
    qbox: QBoxMeasurement | None = None  # the SWE Q-box (with the fat circle: the Q-box ratio)
    size: Axes | None = None  # the lesion's two axes
    eb: EBRatio | None = None  # E/B ratio (strain mode)
    confidence: RoiConfidence | None = None  # quality of the lesion ROI (else the Q-box)
    framing: Framing | None = None  # how large the lesion ROI is in the frame (None without a lesion ROI)
    caliper_px: float | None = None
    caliper_mm: float | None = None
    problems: dict = field(default_factory=dict)  # tool -> why it shows nothing

    @property
    def guide_row(self) -> float | None:
        """Row of the lesion's centre: where the same-depth guide line goes (None without a lesion)."""
        return _centre_row(self.masks)


def _centre_row(masks: dict) -> float | None:
    lesion = masks.get("lesion")
    if lesion is None or not lesion.any():
        return None
    return float(np.nonzero(lesion)[0].mean() + 0.5)


def read(
    elasto: np.ndarray,
    mode: str,
    colour_scale: dict | None,
    marks: Marks,
    spacing: PixelSpacing | None,
    fat_diameter_mm: float = 3.0,
    qbox_diameter_mm: float = 2.0,
    uncertainty: np.ndarray | None = None,
) -> Reading:
    """All reading-tool figures for the elastogram ``elasto`` (H, W, 3) uint8 and the reader's ``marks``.

    ``uncertainty``: the model's per-pixel SD in the scale's units when the generation has one (else the quality
    map falls back to the colour-map distance).
    """
    shape = elasto.shape[:2]
    cmap = Colormap.from_scale(mode, colour_scale)
    image = inverted(elasto, mode, colour_scale)
    scalar = image.scalar
    # The quality map depends on the image and its uncertainty map only: once per generation, not per ROI. The
    # entry holds the uncertainty array, so no other array can get its id while the entry exists.
    _, quality = image.derived(
        ("quality", id(uncertainty)),
        lambda: (uncertainty, quality_map(image.distance, cmap, uncertainty, inside=image.coloured)),
    )
    rois = sized_circles(marks.rois, spacing, {"reference": fat_diameter_mm, "qbox": qbox_diameter_mm})
    stiff = None
    if mode == "strain":
        stiff = image.derived("stiff", lambda: np.nan_to_num(scalar, nan=1.0) < DEFAULT_THRESHOLDS.hard_strain)
    qbox_mm = qbox_diameter_mm if spacing else None
    # On a window around the ROIs (the lesion's box widened by its size: the E/B ratio's search area), with pixel
    # positions moved back: the same figures as on the whole image, at the cost of the window (services.windows).
    window = around(rois, shape)
    if window is None:
        found = _measure(scalar, stiff, rois, shape, mode, cmap, spacing, qbox_mm)
        if "lesion" in found["masks"]:
            found["framing"] = framing(found["masks"]["lesion"])
    else:
        found = _measure(
            window.crop(scalar),
            None if stiff is None else window.crop(stiff),
            window.rois(rois),
            window.size,
            mode,
            cmap,
            spacing,
            qbox_mm,
        )
        if "lesion" in found["masks"]:
            found["framing"] = framing(found["masks"]["lesion"], shape, (window.x0, window.y0))
        found["masks"] = {role: window.embed(mask) for role, mask in found["masks"].items()}
        if (m := found.get("strain_ratio")) is not None:
            found["strain_ratio"] = replace(
                m,
                lesion_depth_px=m.lesion_depth_px + window.y0,
                reference_depth_px=m.reference_depth_px + window.y0,
                lesion_rows=(m.lesion_rows[0] + window.y0, m.lesion_rows[1] + window.y0),
            )
        if (q := found.get("qbox")) is not None and q.emax_at is not None:
            found["qbox"] = replace(q, emax_at=(q.emax_at[0] + window.x0, q.emax_at[1] + window.y0))
    found |= {"spacing": spacing, "rois": rois, "quality": quality}
    masks = found["masks"]
    region = masks.get("lesion", masks.get("qbox"))
    if region is not None:
        found["confidence"] = roi_confidence(quality, region)
    if (caliper := marks.lines.get("caliper")) is not None:
        found["caliper_px"] = caliper.length_px
        if spacing is not None:
            found["caliper_mm"] = distance_mm(caliper.start, caliper.end, spacing)
    return Reading(**found)


def _measure(scalar, stiff, rois: dict, shape, mode: str, cmap, spacing, qbox_diameter_mm) -> dict:
    """The ROI-dependent figures of :class:`Reading` on ``scalar`` / ``stiff`` (an image or a window of it):
    ``masks``, ``size``, ``eb``, ``strain_ratio``, ``qbox`` and ``problems``."""
    masks = scored_masks(rois, shape)
    found: dict = {"masks": masks, "problems": {}}
    problems = found["problems"]
    if "lesion" in masks:
        found["size"] = lesion_size(rois["lesion"], shape, spacing)
        if mode == "strain":
            found["eb"] = eb_ratio(stiff, masks["lesion"], spacing)
    if mode == "strain":
        if "lesion" in rois and "reference" in rois:
            try:
                found["strain_ratio"] = measure_strain_ratio(scalar, rois["lesion"], rois["reference"], spacing)
            except (RoiError, ValueError) as exc:
                problems["strain_ratio"] = str(exc)
        else:
            problems["strain_ratio"] = "draw the lesion ROI (yellow), then click the fat reference (cyan circle)"
    elif "qbox" in rois:
        try:
            found["qbox"] = measure_qbox(
                scalar, rois["qbox"], rois.get("reference"), qbox_diameter_mm, (cmap.vmin, cmap.vmax)
            )
        except (RoiError, ValueError) as exc:
            problems["qbox"] = str(exc)
    else:
        problems["qbox"] = "click the Q-box centre (magenta circle); a fat circle (cyan) adds the Q-box ratio"
    return found


# --- images -------------------------------------------------------------------------------------------------------
def _line_width(shape: tuple[int, ...]) -> int:
    return max(1, round(max(shape[:2]) / 300))  # stays visible when a large image is shown small


def guide_line(image: np.ndarray, row: float | None) -> np.ndarray:
    """A dashed horizontal line across ``image`` at ``row`` (the lesion's depth), for placing the fat reference."""
    rgb = as_rgb(image)
    if row is None:
        return rgb
    pil = Image.fromarray(rgb)
    draw = ImageDraw.Draw(pil)
    width, dash = pil.width, max(4, pil.width // 40)
    for x in range(0, width, 2 * dash):
        draw.line([(x, row), (min(x + dash, width), row)], fill=GUIDE_COLOUR, width=_line_width(rgb.shape))
    return np.asarray(pil)


def mark_point(image: np.ndarray, point: tuple[int, int] | None, colour=(255, 255, 255)) -> np.ndarray:
    """A small cross at ``point`` (x, y) with a dark edge, readable on any colour (the Emax location)."""
    rgb = as_rgb(image)
    if point is None:
        return rgb
    pil = Image.fromarray(rgb)
    draw = ImageDraw.Draw(pil)
    x, y = point
    arm, width = max(4, max(rgb.shape[:2]) // 40), _line_width(rgb.shape)
    for fill, w in (((0, 0, 0), width + 2), (colour, width)):
        draw.line([(x - arm, y), (x + arm, y)], fill=fill, width=w)
        draw.line([(x, y - arm), (x, y + arm)], fill=fill, width=w)
    return np.asarray(pil)


def outlines(image: np.ndarray, masks: dict[str, np.ndarray]) -> np.ndarray:
    """The border of each ROI in its role's colour, as thick as the image is large."""
    from usegan.ui.overlay import outline

    return outline(image, masks, COLOURS, width=_line_width(np.shape(image)))


def quality_image(quality: QualityMap, bmode: np.ndarray) -> np.ndarray:
    """The quality map as a picture: confidence in gray (white = sure) inside the colour box, unsure pixels in
    magenta, the B-mode outside the box."""
    base = as_rgb(bmode).astype(np.float32)
    confidence = quality.confidence
    inside = np.isfinite(confidence)
    gray = np.repeat((np.nan_to_num(confidence, nan=0.0) * 255.0)[..., None], 3, axis=-1)
    out = np.where(inside[..., None], gray, base * 0.6)
    out[quality.unsure] = UNSURE_COLOUR
    return np.rint(out).astype(np.uint8)


def figures_table(figures: dict) -> list[dict[str, str]]:
    """The proposal's figures as readable rows ``{"figure", "value"}`` (numbers rounded, None as blank)."""
    rows = []
    for name, value in figures.items():
        if isinstance(value, bool) or value is None:
            text = "" if value is None else ("yes" if value else "no")
        elif isinstance(value, float):
            text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        elif isinstance(value, dict | list | tuple):
            text = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(list(value))
        else:
            text = str(value)
        rows.append({"figure": name.replace("_", " "), "value": text})
    return rows
