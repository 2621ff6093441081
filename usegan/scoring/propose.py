"""The algorithm's proposal from a coloured elastogram: invert the colour map, then dispatch to an engine.

=========  ========  =====================================================================
mode       organ     engine
=========  ========  =====================================================================
strain     breast    Tsukuba (:func:`~usegan.scoring.tsukuba.score_tsukuba`)
strain     thyroid   Rago (:func:`~usegan.scoring.rago.score_rago`)
swe        any       Q-box statistics + organ interpretation (:func:`~usegan.scoring.swe.qbox`)
=========  ========  =====================================================================

With a reference ROI in strain mode, the strain ratio is attached as ``result.secondary[0]`` (cannot score when
the lesion shows the BGR cyst artefact); in SWE mode the reference gives the Eratio inside the Q-box result.
``figures["lesion_at_scale_max_fraction"]`` > 0 warns that the display saturates there: SWE Emean / Emax are then
lower bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from usegan.colormaps import Colormap, colormap_for
from usegan.scoring.rago import score_rago
from usegan.scoring.ratio import LINEAR, StrainScale, strain_ratio
from usegan.scoring.result import ScoreResult, cannot_score
from usegan.scoring.roi import Roi, RoiError, lesion_mask, roi_to_mask
from usegan.scoring.swe import qbox
from usegan.scoring.systems import system_for
from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds
from usegan.scoring.tsukuba import score_tsukuba
from usegan.vocab import Mode, Organ, ScoreSystem

# The strain engines by system; which system an organ and mode get is decided in usegan.scoring.systems.
STRAIN_ENGINES: dict[str, Callable[..., ScoreResult]] = {
    ScoreSystem.TSUKUBA: score_tsukuba,
    ScoreSystem.RAGO: score_rago,
}


def _colour_figures(distance: np.ndarray, scalar: np.ndarray, mask: np.ndarray, cmap: Colormap) -> dict:
    values = scalar[mask]
    known = values[~np.isnan(values)]
    half_step = cmap.resolution / 2
    return {
        "colormap_mode": cmap.mode,
        "colormap_vmin": cmap.vmin,
        "colormap_vmax": cmap.vmax,
        "lesion_mean_delta_e": float(distance[mask].mean()),
        "lesion_off_map_fraction": float(1.0 - known.size / values.size),
        # Pixels at an end of the scale may lie beyond it (a saturated display): their value is a bound only.
        "lesion_at_scale_max_fraction": float(np.mean(known >= cmap.vmax - half_step)) if known.size else np.nan,
        "lesion_at_scale_min_fraction": float(np.mean(known <= cmap.vmin + half_step)) if known.size else np.nan,
    }


def propose(
    elasto_rgb: np.ndarray,
    mode: str,
    lesion_roi: Roi,
    reference_roi: Roi | None = None,
    organ: str = Organ.BREAST,
    colormap: Colormap | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    strain_scale: StrainScale = LINEAR,
    scalar: np.ndarray | None = None,
) -> ScoreResult:
    """Score a coloured elastogram inside a lesion ROI.

    Args:
        elasto_rgb: ``(H, W, 3|4)`` uint8 elastogram in the colours of ``colormap``.
        mode: ``"strain"`` or ``"swe"``.
        lesion_roi, reference_roi: a :class:`~usegan.scoring.roi.Rect`, a ``Polygon`` or an ``(H, W)`` mask.
        organ: ``"breast"``, ``"thyroid"`` or ``"liver"`` (liver only with ``"swe"``).
        colormap: the map the image was drawn with; default ``colormap_for(mode)`` (SWE 0-180 kPa).
        strain_scale: how displayed strain maps to relative strain, for the strain ratio (default linear).
        scalar: ``(H, W)`` float map the image encodes (strain or kPa), when it is known: a generated elastogram
            carries it (:attr:`usegan.inference.Elastogram.scalar`), so its colours need not be inverted. Real
            elastograms and screen captures leave it ``None`` and are read back through the colour map.

    Returns the engine's :class:`ScoreResult`, or ``score=None`` with a reason when an ROI is outside the image,
    has zero area, does not match the image size, or covers mostly off-map colours. Raises ``ValueError`` for an
    unknown mode/organ, a colour map of another mode, or an image that is not ``(H, W, 3|4)``.
    """
    system = system_for(mode, organ)
    cmap = colormap or colormap_for(mode)
    if cmap.mode != mode:
        raise ValueError(f"colormap is for {cmap.mode!r} but mode is {mode!r}")
    rgb = np.asarray(elasto_rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"elasto_rgb must be (H, W, 3) or (H, W, 4), got shape {rgb.shape}")
    shape = rgb.shape[:2]
    try:
        lesion, lesion_shape = lesion_mask(lesion_roi, shape)
        reference = None if reference_roi is None else roi_to_mask(reference_roi, shape)
    except RoiError as exc:
        return cannot_score(system, str(exc))
    if scalar is None:
        scalar, distance = cmap.invert(rgb)
    else:
        scalar = np.asarray(scalar, dtype=np.float32)
        if scalar.shape != shape:
            raise ValueError(f"scalar map is {scalar.shape}, the elastogram {shape}")
        distance = np.zeros(shape, dtype=np.float32)
    colour_figures = {**_colour_figures(distance, scalar, lesion, cmap), "lesion_roi_shape": lesion_shape}
    if mode == Mode.SWE:
        result = qbox(scalar, lesion, reference, organ, thresholds)
        return _with_figures(result, colour_figures)
    result = _with_figures(STRAIN_ENGINES[system](scalar, lesion, None, thresholds), colour_figures)
    if reference is None:
        return result
    if result.figures.get("bgr_sign"):
        # The BGR layers are an artefact of fluid, not strain: a ratio read from them would be made up.
        ratio = cannot_score(
            ScoreSystem.STRAIN_RATIO, "the lesion shows the BGR (cyst) artefact; its colours are not strain"
        )
    else:
        ratio = strain_ratio(scalar, lesion, reference, thresholds, strain_scale)
    return replace(result, secondary=(ratio,))


def _with_figures(result: ScoreResult, extra: dict) -> ScoreResult:
    return replace(result, figures={**result.figures, **extra})
