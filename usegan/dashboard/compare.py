"""Virtual vs real elastogram: structural similarity and the score each one gives for the same ROIs.

SSIM (Wang et al., IEEE TIP 2004) on the CIE-Lab lightness of both images with an 11x11 Gaussian window
(sigma 1.5), ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` with ``L = 100``; reported as the mean over the pixels where
either image carries colour (the elastography box), so the identical gray B-mode around it does not inflate it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from usegan.colormaps import rgb_to_lab
from usegan.dashboard.overlay import as_rgb, coloured_mask
from usegan.scoring import ScoreResult


def ssim_map(a_rgb: np.ndarray, b_rgb: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """``(H, W)`` float32 local SSIM of two ``(H, W, 3)`` uint8 images' Lab lightness, in [-1, 1]."""
    a, b = as_rgb(a_rgb), as_rgb(b_rgb)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same size, got {a.shape[:2]} and {b.shape[:2]}")
    la, lb = rgb_to_lab(a)[..., 0].astype(np.float64), rgb_to_lab(b)[..., 0].astype(np.float64)
    c1, c2 = (0.01 * 100) ** 2, (0.03 * 100) ** 2

    def blur(x):
        return ndimage.gaussian_filter(x, sigma, truncate=3.5)

    mu_a, mu_b = blur(la), blur(lb)
    var_a = blur(la * la) - mu_a**2
    var_b = blur(lb * lb) - mu_b**2
    cov = blur(la * lb) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return (num / den).astype(np.float32)


def ssim(a_rgb: np.ndarray, b_rgb: np.ndarray) -> float:
    """Mean SSIM over the colour box of either image (the whole image when neither has colour)."""
    local = ssim_map(a_rgb, b_rgb)
    box = coloured_mask(a_rgb) | coloured_mask(b_rgb)
    return float(local[box].mean() if box.any() else local.mean())


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
        real = np.asarray(Image.fromarray(real).resize((w, h), Image.NEAREST))
    return Comparison(ssim(virtual_rgb, real), score_fn(np.asarray(virtual_rgb)), score_fn(real))


def real_comparisons(store, limit: int = 50):
    """One row per (case, mode) that has both a generation and a real elastogram, newest first: SSIM and the
    mean absolute colour difference. Limited to ``limit`` rows (each row decodes two images)."""
    import pandas as pd

    pairs = store.query(
        "SELECT r.case_id, r.mode, r.source, r.elasto_sha AS real_sha, r.created_at FROM real_elastograms r "
        "ORDER BY r.created_at DESC LIMIT ?",
        [int(limit)],
    )
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
