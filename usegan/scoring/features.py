"""Pixel features of a lesion on a normalised strain map, shared by the Tsukuba and Rago engines.

All functions take ``strain (H, W)`` float in [0, 1] (1 = soft, 0 = hard, NaN = unknown pixel) and boolean
masks of the same shape. Fractions are over *known* pixels of a region; a region with no known pixel is NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from usegan.scoring.thresholds import DEFAULT_THRESHOLDS, Thresholds


def check_map(values: np.ndarray, name: str = "map") -> np.ndarray:
    """Validate a 2-D scalar map and return it as float32 ``(H, W)``."""
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (H, W) array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def check_strain(strain: np.ndarray) -> np.ndarray:
    """Validate normalised strain: 2-D, finite values in [0, 1] (NaN allowed = unknown)."""
    arr = check_map(strain, "strain")
    finite = arr[np.isfinite(arr)]
    if np.isinf(arr).any() or (finite.size and (finite.min() < -1e-6 or finite.max() > 1 + 1e-6)):
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan, math.nan)
        raise ValueError(f"strain must be normalised to [0, 1] (NaN = unknown), got range [{lo:.4g}, {hi:.4g}]")
    return np.clip(arr, 0.0, 1.0)


def check_mask(mask: np.ndarray, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """Validate a mask against the map's shape and return it as bool ``(H, W)``."""
    arr = np.asarray(mask)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} shape {arr.shape} does not match the map's shape {tuple(shape)}")
    return arr.astype(bool, copy=False)


def equivalent_radius(mask: np.ndarray) -> float:
    """Radius in pixels of the disc with the mask's area."""
    return math.sqrt(float(mask.sum()) / math.pi)


def core_and_rim(mask: np.ndarray, erosion_fraction: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Split a lesion into its core (eroded by ``erosion_fraction`` x equivalent radius, >= 1 px) and rim.

    Returns ``(core, rim, erosion_px)``. The erosion uses the Euclidean distance to the lesion's border, so
    the core keeps the lesion's shape instead of a square structuring element's corners.
    """
    erosion_px = max(1.0, erosion_fraction * equivalent_radius(mask))
    inside = ndimage.distance_transform_edt(mask)
    core = inside > erosion_px
    return core, mask & ~core, erosion_px


def ring_around(mask: np.ndarray, width_fraction: float, min_width_px: int) -> tuple[np.ndarray, float]:
    """The band of width ``max(min_width_px, width_fraction x equivalent radius)`` just outside ``mask``."""
    width_px = max(float(min_width_px), width_fraction * equivalent_radius(mask))
    outside = ndimage.distance_transform_edt(~mask)
    return (outside > 0) & (outside <= width_px), width_px


def region_stats(strain: np.ndarray, region: np.ndarray, hard_strain: float) -> dict[str, float]:
    """Known-pixel count, unknown fraction, hard fraction and mean strain of ``region``."""
    values = strain[region]
    known = values[~np.isnan(values)]
    n = int(values.size)
    return {
        "pixels": n,
        "known_pixels": int(known.size),
        "unknown_fraction": (1.0 - known.size / n) if n else math.nan,
        "hard_fraction": float(np.mean(known < hard_strain)) if known.size else math.nan,
        "mean_strain": float(known.mean()) if known.size else math.nan,
    }


def mosaic_index(strain: np.ndarray, mask: np.ndarray, hard_strain: float) -> float:
    """Fraction of 4-neighbour pixel pairs inside ``mask`` (both known) whose hard/not-hard state differs.

    0 for a uniform lesion or one hard block with a clean edge; higher for a scattered "mosaic" of hard spots.
    """
    hard = strain < hard_strain
    ok = mask & ~np.isnan(strain)
    changes = pairs = 0
    for a, b, oka, okb in (
        (hard[1:, :], hard[:-1, :], ok[1:, :], ok[:-1, :]),
        (hard[:, 1:], hard[:, :-1], ok[:, 1:], ok[:, :-1]),
    ):
        both = oka & okb
        pairs += int(both.sum())
        changes += int((both & (a != b)).sum())
    return changes / pairs if pairs else math.nan


def bgr_sign(strain: np.ndarray, mask: np.ndarray, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict:
    """Detect the cyst's blue-green-red layers: top third hard, middle third green, bottom third soft.

    Thirds are by image row over the lesion's rows (row 0 = nearest the transducer). Returns ``{"bgr_sign":
    bool, "bgr_top_blue", "bgr_middle_green", "bgr_bottom_red"}`` (fractions of known pixels in each band).
    """
    rows = np.nonzero(mask.any(axis=1))[0]
    out = {
        "bgr_sign": False,
        "bgr_top_blue": math.nan,
        "bgr_middle_green": math.nan,
        "bgr_bottom_red": math.nan,
    }
    if rows.size < 3:
        return out
    edges = np.linspace(rows[0], rows[-1] + 1, 4)
    row_index = np.arange(mask.shape[0])[:, None]
    hard, soft = thresholds.hard_strain, thresholds.soft_strain
    tests = (
        ("bgr_top_blue", lambda v: v < hard),
        ("bgr_middle_green", lambda v: (v >= hard) & (v <= soft)),
        ("bgr_bottom_red", lambda v: v > soft),
    )
    for i, (key, test) in enumerate(tests):
        band = mask & (row_index >= edges[i]) & (row_index < edges[i + 1])
        values = strain[band]
        values = values[~np.isnan(values)]
        out[key] = float(np.mean(test(values))) if values.size else math.nan
    fractions = [out[k] for k, _ in tests]
    out["bgr_sign"] = all(f >= thresholds.bgr_band_fraction for f in fractions if not math.isnan(f)) and not any(
        math.isnan(f) for f in fractions
    )
    return out


def lesion_features(
    strain: np.ndarray,
    lesion_mask: np.ndarray,
    box_mask: np.ndarray | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> dict:
    """Every feature Tsukuba and Rago need, as one flat dict of numbers (see the module docstring).

    ``box_mask`` is the elastography box: pixels outside it count as unknown. Keys: ``lesion_*`` / ``core_*``
    / ``rim_*`` / ``ring_*`` / ``posterior_*`` region stats, ``erosion_px``, ``ring_width_px``,
    ``mosaic_index``,
    ``hard_components`` and the BGR keys.
    """
    strain = check_strain(strain)
    lesion = check_mask(lesion_mask, strain.shape, "lesion_mask")
    if box_mask is not None:
        box = check_mask(box_mask, strain.shape, "box_mask")
        strain = np.where(box, strain, np.float32(np.nan))
    hard = thresholds.hard_strain
    core, rim, erosion_px = core_and_rim(lesion, thresholds.core_erosion)
    ring, ring_px = ring_around(lesion, thresholds.ring_width, thresholds.min_ring_width_px)
    # "Behind" the nodule = the part of the ring deeper than the lesion's centroid (ultrasound travels down).
    centre_row = float(np.nonzero(lesion)[0].mean()) if lesion.any() else 0.0
    posterior = ring & (np.arange(lesion.shape[0])[:, None] > centre_row)
    figures: dict = {"erosion_px": erosion_px, "ring_width_px": ring_px}
    for name, region in (
        ("lesion", lesion),
        ("core", core),
        ("rim", rim),
        ("ring", ring),
        ("posterior", posterior),
    ):
        for key, value in region_stats(strain, region, hard).items():
            figures[f"{name}_{key}"] = value
    figures["mosaic_index"] = mosaic_index(strain, lesion, hard)
    figures["hard_components"] = int(ndimage.label(lesion & (strain < hard))[1])
    figures.update(bgr_sign(strain, lesion, thresholds))
    return figures
