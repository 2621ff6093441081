"""Ground-truth labels of a phantom, computed from its *true* strain and stiffness (never from the images).

* Tsukuba class: :func:`usegan.scoring.tsukuba.score_tsukuba` on the normalised true strain, so the phantom's
  truth and the scoring engine share one rule table (docs/domain.md section 3). A cyst also gets ``bgr = True``.
* Strain ratio: mean true strain of the subcutaneous fat inside the box / mean true strain of the lesion
  (the clinical reference-ROI definition; fat is the reference, docs/domain.md section 3).
* Emean / Emax: mean and maximum Young's modulus of the lesion, kPa (what an SWE Q-box on it would read).
"""

from __future__ import annotations

import numpy as np

from usegan.phantom.render import Box, box_mask


def compute_labels(
    lesion_type: str,
    strain: np.ndarray,
    normalised: np.ndarray,
    stiffness_kpa: np.ndarray,
    lesion_mask: np.ndarray,
    fat_mask: np.ndarray,
    box: Box,
) -> dict:
    """Labels dict (JSON-ready) of one case.

    ``strain`` (H, W) float32 true axial strain; ``normalised`` (H, W) float32 in [0, 1], NaN outside the box;
    ``stiffness_kpa`` (H, W) float32; ``lesion_mask`` / ``fat_mask`` (H, W) bool; ``box`` (x, y, w, h) pixels.
    Keys: lesion_type, has_lesion, bgr, tsukuba (int or None), tsukuba_figures, strain_ratio, emean_kpa, emax_kpa,
    lesion_area_px.
    """
    from usegan.scoring.tsukuba import score_tsukuba

    has_lesion = bool(lesion_mask.any())
    labels: dict = {
        "lesion_type": lesion_type,
        "has_lesion": has_lesion,
        "bgr": lesion_type == "cyst",
        "tsukuba": None,
        "tsukuba_figures": {},
        "strain_ratio": None,
        "emean_kpa": None,
        "emax_kpa": None,
        "lesion_area_px": int(lesion_mask.sum()),
    }
    if not has_lesion:
        return labels
    inside = box_mask(strain.shape, box)
    result = score_tsukuba(normalised, lesion_mask, inside)
    labels["tsukuba"] = None if result.score is None else int(result.score)
    labels["tsukuba_figures"] = _jsonable(result.figures)
    reference = fat_mask & inside
    if reference.sum() < 4:  # box missed the fat: use the fat of the same columns
        cols = inside.any(axis=0)
        reference = fat_mask & cols[None, :]
    if reference.any():
        labels["strain_ratio"] = round(float(strain[reference].mean() / strain[lesion_mask].mean()), 4)
    labels["emean_kpa"] = round(float(stiffness_kpa[lesion_mask].mean()), 3)
    labels["emax_kpa"] = round(float(stiffness_kpa[lesion_mask].max()), 3)
    return labels


def _jsonable(value):
    """Figures may hold numpy scalars / arrays; make them plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else round(float(value), 6)
    return value
