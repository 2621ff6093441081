"""How far phantom B-mode images are from real scans, in numbers.

Each image (``(H, W)`` gray, any size; resampled to 256 x 256) is described by plain statistics that a
sonographer's eye also uses (:data:`FEATURES`): grey-level distribution, fall-off with depth, speckle statistics
(Nakagami ``m`` and ``omega`` of the normalised intensity in local windows; Shankar, IEEE UFFC 2000),
texture scale (half-width of the autocorrelation, axial and lateral) and layering (vertical vs horizontal gradient
energy). Two numbers summarise a phantom set against a real set:

* ``auc``: how well a logistic-regression classifier on those statistics tells phantom from real, by 5-fold
  cross-validation (0.5 = indistinguishable, 1.0 = perfectly separated);
* ``mean_abs_smd``: the mean absolute standardised mean difference of the features (Cohen's d, pooled SD).

Real images are passed in by the caller (e.g. ``../shared/real-bmode/breast-normal``); none ship with the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

FEATURES = (
    "mean",
    "std",
    "p10",
    "p50",
    "p90",
    "dark_fraction",
    "top_mean",
    "middle_mean",
    "bottom_mean",
    "nakagami_m",
    "nakagami_omega",
    "acf_axial_px",
    "acf_lateral_px",
    "acf_anisotropy",
    "grad_vertical",
    "grad_horizontal",
    "layering",
)
SIDE = 256


def _as_gray(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3:
        arr = arr[..., :3].mean(axis=2)
    if arr.ndim != 2:
        raise ValueError(f"expected a (H, W) or (H, W, C) image, got shape {np.shape(image)}")
    if arr.shape != (SIDE, SIDE):
        arr = np.asarray(Image.fromarray(arr.astype(np.float32), mode="F").resize((SIDE, SIDE), Image.BILINEAR))
    return arr.astype(np.float64)


def _acf_half_width(image: np.ndarray) -> tuple[float, float]:
    """Axial and lateral distance (pixels) at which the autocorrelation of the detrended image falls to 0.5."""
    detrended = image - ndimage.uniform_filter(image, 31)
    spectrum = np.abs(np.fft.fft2(detrended)) ** 2
    acf = np.real(np.fft.ifft2(spectrum))
    acf = acf / max(acf[0, 0], 1e-12)
    widths = []
    for profile in (acf[:32, 0], acf[0, :32]):
        below = np.flatnonzero(profile < 0.5)
        if below.size == 0:
            widths.append(32.0)
            continue
        k = int(below[0])
        # linear interpolation between k-1 and k
        widths.append(float(k - 1 + (profile[k - 1] - 0.5) / max(profile[k - 1] - profile[k], 1e-12)))
    return widths[0], widths[1]


def _nakagami(image: np.ndarray, window: int = 16) -> tuple[float, float]:
    """Median Nakagami ``m`` and ``omega`` over non-overlapping windows of the intensity scaled to [0, 1]."""
    envelope = image / 255.0
    ms, omegas = [], []
    for y in range(0, SIDE - window + 1, window):
        for x in range(0, SIDE - window + 1, window):
            r2 = envelope[y : y + window, x : x + window] ** 2
            omega = r2.mean()
            var = r2.var()
            if omega > 1e-4 and var > 1e-12:
                ms.append(omega**2 / var)
                omegas.append(omega)
    if not ms:
        return 0.0, 0.0
    return float(np.median(ms)), float(np.median(omegas))


def image_features(image: np.ndarray) -> np.ndarray:
    """The :data:`FEATURES` of one image, ``(len(FEATURES),)`` float64."""
    gray = _as_gray(image)
    third = SIDE // 3
    acf_axial, acf_lateral = _acf_half_width(gray)
    m, omega = _nakagami(gray)
    gy, gx = np.gradient(ndimage.gaussian_filter(gray, 1.0))
    grad_v, grad_h = float(np.abs(gy).mean()), float(np.abs(gx).mean())
    values = [
        gray.mean(),
        gray.std(),
        *np.percentile(gray, [10, 50, 90]),
        float((gray < 30).mean()),
        gray[:third].mean(),
        gray[third : 2 * third].mean(),
        gray[2 * third :].mean(),
        m,
        omega,
        acf_axial,
        acf_lateral,
        acf_lateral / max(acf_axial, 1e-6),
        grad_v,
        grad_h,
        grad_v / max(grad_h, 1e-6),
    ]
    return np.asarray(values, dtype=np.float64)


def feature_table(images: Sequence[np.ndarray]) -> np.ndarray:
    """``(N, len(FEATURES))`` features of ``images``."""
    return np.stack([image_features(im) for im in images])


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns weights ``(D + 1,)`` (last = bias)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (pos.size * neg.size))


@dataclass(frozen=True)
class RealismReport:
    n_phantom: int  # phantom images compared
    n_real: int  # real images compared
    auc: float  # cross-validated AUC of phantom-vs-real classification (0.5 = indistinguishable)
    accuracy: float  # its cross-validated accuracy
    mean_abs_smd: float  # mean |standardised mean difference| over the features
    smd: dict  # per feature: (phantom mean - real mean) / pooled SD
    phantom_means: dict  # per feature mean, phantom
    real_means: dict  # per feature mean, real

    def summary(self) -> dict:
        return {
            "n_phantom": self.n_phantom,
            "n_real": self.n_real,
            "auc": round(self.auc, 3),
            "accuracy": round(self.accuracy, 3),
            "mean_abs_smd": round(self.mean_abs_smd, 3),
            "smd": {k: round(v, 2) for k, v in self.smd.items()},
        }


def compare(phantom: np.ndarray, real: np.ndarray, folds: int = 5, seed: int = 0) -> RealismReport:
    """Feature tables ``(N, D)`` of phantom and real images -> :class:`RealismReport`."""
    if len(phantom) < folds or len(real) < folds:
        raise ValueError(f"need at least {folds} images per set, got {len(phantom)} phantom and {len(real)} real")
    x = np.vstack([phantom, real])
    y = np.concatenate([np.ones(len(phantom)), np.zeros(len(real))])
    order = np.random.default_rng(seed).permutation(len(x))
    scores = np.zeros(len(x))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
        w = _fit_logistic((x[train] - mu) / sd, y[train])
        scores[test] = np.hstack([(x[test] - mu) / sd, np.ones((len(test), 1))]) @ w
    pooled = np.sqrt(0.5 * (phantom.var(0) + real.var(0))) + 1e-9
    smd = (phantom.mean(0) - real.mean(0)) / pooled
    return RealismReport(
        n_phantom=len(phantom),
        n_real=len(real),
        auc=_auc(scores, y),
        accuracy=float(((scores > 0) == (y == 1)).mean()),
        mean_abs_smd=float(np.abs(smd).mean()),
        smd=dict(zip(FEATURES, smd.tolist(), strict=True)),
        phantom_means=dict(zip(FEATURES, phantom.mean(0).tolist(), strict=True)),
        real_means=dict(zip(FEATURES, real.mean(0).tolist(), strict=True)),
    )


DEPTH_BANDS = {"top_third": (0.0, 1 / 3), "lower_two_thirds": (1 / 3, 1.0)}  # share of the image height


def compare_bands(
    phantom: Sequence[np.ndarray], real: Sequence[np.ndarray], bands: dict | None = None
) -> dict[str, RealismReport]:
    """:func:`compare` of phantom and real images band by band of depth: each band ``name: (top, bottom)`` (shares
    of the height, default :data:`DEPTH_BANDS`: skin and subcutaneous fat, then the rest) is cut from every image
    and compared as an image of its own. Says where along depth the phantom looks least like the real scans."""
    bands = DEPTH_BANDS if bands is None else bands
    out = {}
    for name, (top, bottom) in bands.items():
        if not 0.0 <= top < bottom <= 1.0:
            raise ValueError(
                f"band {name!r} must be 0 <= top < bottom <= 1 (shares of the height), got {(top, bottom)}"
            )
        cut = [[_band(image, top, bottom) for image in images] for images in (phantom, real)]
        out[name] = compare(feature_table(cut[0]), feature_table(cut[1]))
    return out


def _band(image: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """The rows of ``image`` (``(H, W)`` or ``(H, W, C)``) from ``top`` to ``bottom`` x its height, at least 8."""
    rows = np.asarray(image).shape[0]
    start = min(round(top * rows), rows - 8)
    return np.asarray(image)[start : max(start + 8, round(bottom * rows))]
