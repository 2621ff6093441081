"""Image and agreement metrics for evaluating generated elastograms.

SSIM and PSNR come from scikit-image (a well-kept implementation: Wang et al. 2004 with a 7x7 uniform window by
default); the rest are short enough to own and are tested against hand-computed values.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from usegan.agreement import confusion_matrix, quadratic_weighted_kappa  # noqa: F401 (re-exported for evaluation)
from usegan.training.config import VISIBLE_LESION_CONTRAST  # noqa: F401 (re-exported for evaluation)


def lesion_contrast(bmode: np.ndarray, mask: np.ndarray, valid: np.ndarray | None = None, ring_px: int = 10) -> float:
    """How visible a lesion is on the B-mode: |mean inside ``mask`` - mean of a ``ring_px`` ring around it| / the
    ring's standard deviation (speckle). ``bmode`` ``(H, W)`` any scale, ``mask`` / ``valid`` ``(H, W)`` bool
    (``valid`` False = fill, left out of the ring). 0.0 when the lesion or the ring has fewer than 4 pixels."""
    inside = np.asarray(mask, bool)
    ring = ndimage.maximum_filter(inside, size=2 * ring_px + 1) & ~inside
    if valid is not None:
        ring &= np.asarray(valid, bool)
    if inside.sum() < 4 or ring.sum() < 4:
        return 0.0
    surround = bmode[ring]
    return float(abs(bmode[inside].mean() - surround.mean()) / (surround.std() + 1e-3))


def crop_box(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """``image[y:y+h, x:x+w]`` for a box ``(x, y, w, h)``; the whole image when ``box`` is None."""
    if box is None:
        return image
    x, y, w, h = (int(v) for v in box)
    if w <= 0 or h <= 0:
        raise ValueError(f"box must have positive size, got {box}")
    return image[y : y + h, x : x + w]


def ssim_rgb(fake: np.ndarray, real: np.ndarray) -> float:
    """SSIM of two ``(H, W, 3)`` uint8 images, averaged over channels, in [-1, 1] (1 = identical)."""
    if fake.shape != real.shape:
        raise ValueError(f"shapes differ: {fake.shape} vs {real.shape}")
    win = min(7, min(fake.shape[:2]) // 2 * 2 - 1)
    if win < 3:
        raise ValueError(f"image {fake.shape[:2]} too small for SSIM")
    return float(structural_similarity(fake, real, channel_axis=-1, data_range=255, win_size=win))


def psnr_rgb(fake: np.ndarray, real: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when identical; capped at 100 for averaging)."""
    if np.array_equal(fake, real):
        return 100.0
    return float(min(100.0, peak_signal_noise_ratio(real, fake, data_range=255)))


def colour_histogram_intersection(fake: np.ndarray, real: np.ndarray, bins: int = 8) -> float:
    """Intersection of the normalised ``bins^3`` RGB histograms of two images, in [0, 1] (1 = same colours)."""

    def hist(image: np.ndarray) -> np.ndarray:
        q = (image.reshape(-1, 3).astype(np.int64) * bins) // 256
        counts = np.bincount((q[:, 0] * bins + q[:, 1]) * bins + q[:, 2], minlength=bins**3)
        return counts / max(1, counts.sum())

    return float(np.minimum(hist(fake), hist(real)).sum())
