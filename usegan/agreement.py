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


def quadratic_weighted_kappa(truth, predicted, classes=SCORES) -> float:
    """Cohen's quadratic-weighted kappa of two raters; NaN with no pairs or when chance agreement is total."""
    observed = confusion_matrix(truth, predicted, classes).astype(np.float64)
    n = observed.sum()
    if n == 0:
        return math.nan
    k = len(classes)
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    weights = (i - j) ** 2 / (k - 1) ** 2
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    denominator = (weights * expected).sum()
    if denominator == 0:
        return 1.0 if (weights * observed).sum() == 0 else math.nan
    return float(1.0 - (weights * observed).sum() / denominator)
