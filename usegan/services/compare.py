"""Virtual vs real elastogram: structural similarity and the score each one gives for the same ROIs.

SSIM (Wang et al., IEEE TIP 2004; scikit-image's implementation) of the RGB images inside the elastography box,
the same figure ``usegan evaluate`` reports, so the gray B-mode around the box does not inflate it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.colormaps import coloured_mask
from usegan.scoring import ScoreResult
from usegan.ui.overlay import as_rgb


def ssim(a_rgb: np.ndarray, b_rgb: np.ndarray) -> float:
    """SSIM of two ``(H, W, 3)`` elastograms inside the bounding box of the colour region of either image (the
    whole image when neither has colour), computed exactly as the model evaluation does
    (:func:`usegan.training.metrics.ssim_rgb`), so the review page and the model cards report the same figure."""
    from usegan.training.metrics import ssim_rgb

    a, b = as_rgb(a_rgb), as_rgb(b_rgb)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same size, got {a.shape[:2]} and {b.shape[:2]}")
    box = coloured_mask(a) | coloured_mask(b)
    if box.any():
        rows, cols = np.flatnonzero(box.any(1)), np.flatnonzero(box.any(0))
        a = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        b = b[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return ssim_rgb(a, b)


@dataclass(frozen=True)
class Comparison:
    ssim: float  # in [-1, 1], 1 = identical structure
    virtual: ScoreResult  # score on the virtual elastogram
    real: ScoreResult  # score on the real one, same ROIs


def compare(virtual_rgb, real_rgb, score_fn) -> Comparison:
    """SSIM plus ``score_fn(rgb) -> ScoreResult`` applied to both images (the same ROIs and organ)."""
    real = as_rgb(real_rgb)
    if real.shape != as_rgb(virtual_rgb).shape:
        from PIL import Image

        h, w = np.asarray(virtual_rgb).shape[:2]
        real = np.asarray(Image.fromarray(real).resize((w, h), Image.Resampling.NEAREST))
    return Comparison(ssim(virtual_rgb, real), score_fn(np.asarray(virtual_rgb)), score_fn(real))


def real_comparisons(store, limit: int = 50):
    """One row per (case, mode) that has both a generation and a real elastogram, newest first: SSIM and the
    mean absolute colour difference. Limited to ``limit`` rows (each row decodes two images)."""
    import pandas as pd

    pairs = store.read_models.recent_real_elastograms(limit)
    rows = []
    for pair in pairs.itertuples():
        generation = store.latest_generation(pair.case_id, pair.mode)
        if generation is None:
            continue
        virtual, real = generation.elastogram(), store.images.get(pair.real_sha)
        if virtual.shape != real.shape:
            continue
        rows.append(
            {
                "case_id": pair.case_id,
                "mode": pair.mode,
                "model_version": generation.model_version,
                "real_source": pair.source,
                "ssim": ssim(virtual, real),
                "mean_abs_diff": float(np.abs(virtual.astype(np.int16) - real.astype(np.int16)).mean()),
            }
        )
    columns = ["case_id", "mode", "model_version", "real_source", "ssim", "mean_abs_diff"]
    return pd.DataFrame(rows, columns=columns)
