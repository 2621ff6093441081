"""Agreement between two raters on an ordinal scale (the algorithm vs the clinician, or vs ground truth).

Quadratic-weighted kappa (Cohen 1968): ``1 - sum(W * O) / sum(W * E)`` with weights
``W[i, j] = (i - j)^2 / (K - 1)^2``, observed matrix ``O`` and the matrix ``E`` expected by chance from the two
raters' marginals; 1 = perfect agreement, 0 = chance, < 0 worse than chance.
"""

from __future__ import annotations

import math

import numpy as np

SCORES = (1, 2, 3, 4, 5)


def confusion_matrix(truth, predicted, classes=SCORES) -> np.ndarray:
    """``(K, K)`` int counts, rows = truth (or the confirmed score), columns = prediction; pairs with a missing
    value (None / NaN) are skipped; a value outside ``classes`` is a ``ValueError``."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for a, b in zip(truth, predicted, strict=True):
        if a is None or b is None or _isnan(a) or _isnan(b):
            continue
        if int(a) not in index or int(b) not in index:
            raise ValueError(f"scores must be among {tuple(classes)}, got {a!r} and {b!r}")
        matrix[index[int(a)], index[int(b)]] += 1
    return matrix


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def quadratic_weights(k: int) -> np.ndarray:
    """``(K, K)`` disagreement weights ``(i - j)^2 / (K - 1)^2`` (0 on the diagonal, 1 in the far corners)."""
    if k < 2:
        raise ValueError(f"a weighted kappa needs at least 2 classes, got {k}")
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    return (i - j) ** 2 / (k - 1) ** 2


def kappa_of_matrices(observed: np.ndarray) -> np.ndarray:
    """Quadratic-weighted kappa of a stack of confusion matrices ``(..., K, K)`` -> ``(...)`` float64.

    NaN where a matrix is empty or chance disagreement is zero (every reading in one class): kappa is undefined
    there. Vectorised so a bootstrap of thousands of resamples is one call.
    """
    observed = np.asarray(observed, dtype=np.float64)
    if observed.ndim < 2 or observed.shape[-1] != observed.shape[-2]:
        raise ValueError(f"observed must be (..., K, K), got shape {observed.shape}")
    weights = quadratic_weights(observed.shape[-1])
    n = observed.sum(axis=(-2, -1))
    safe_n = np.where(n > 0, n, 1.0)
    expected = observed.sum(axis=-1)[..., :, None] * observed.sum(axis=-2)[..., None, :] / safe_n[..., None, None]
    numerator = (weights * observed).sum(axis=(-2, -1))
    denominator = (weights * expected).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = 1.0 - numerator / denominator
    return np.where((n > 0) & (denominator > 0), kappa, np.nan)


def quadratic_weighted_kappa(truth, predicted, classes=SCORES) -> float:
    """Cohen's quadratic-weighted kappa of two raters; NaN with no pairs. When chance agreement is total (every
    pair in one class) it is 1.0 if the raters agree, else NaN (model evaluation's convention; the research
    statistics in :mod:`usegan.research.stats` report such a set as undefined instead)."""
    observed = confusion_matrix(truth, predicted, classes).astype(np.float64)
    if observed.sum() == 0:
        return math.nan
    kappa = float(kappa_of_matrices(observed))
    if math.isnan(kappa):
        return 1.0 if (quadratic_weights(len(classes)) * observed).sum() == 0 else math.nan
    return kappa
