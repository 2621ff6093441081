"""A second B-mode simulator, written apart from :mod:`usegan.phantom`, to stress-test a generator on lesions.

:mod:`usegan.phantom` draws breast anatomy and images it with a base-band convolution model (one complex Gaussian
scatterer per pixel, a depth-dependent Gaussian beam). This module shares none of its code and follows the RF route
of Field II-style simulations of a tissue-mimicking phantom (a CIRS-like gel block, no breast anatomy):

1. **Scatterers**: Poisson counts on a fine grid (``FINE_DZ_MM`` in depth, one column per image column) at a
   density drawn per case (``SCATTERERS_PER_MM2``; low densities give partially developed speckle); each cell's
   amplitude is Gaussian with variance = count x local echogenicity.
2. **Attenuation**: two-way ``2 f alpha`` dB/cm/MHz integrated down each column; a TGC compensates the background's
   attenuation with a random slope error.
3. **Pulse-echo**: an RF pulse (Gaussian-modulated cosine at the centre frequency, ``cycles`` long) along depth and
   a fixed-width Gaussian beam across (no focus), then the **Hilbert envelope** of the RF signal.
4. **Display**: block-averaged to the output rows, ``20 log10`` relative to the background, a random dynamic range
   and grey level of the background, a 3x3 median filter on half the cases (a scanner's speckle reduction), gamma.

One lesion per image, 5-15 mm across, fully inside; its expected reading comes from the clinical appearance-stiffness
link (docs/domain.md), not from a mechanical model:

============  ===========================================  ==========  ===========  ======================
type          shape                                        echo        attenuation  expected reading
============  ===========================================  ==========  ===========  ======================
carcinoma     irregular, spiculated, as tall as wide       0.08-0.3    1.5-3x       hard: strain 4-5, SWE 2
fibroadenoma  smooth oval, wider than tall                 0.15-0.45   0.7x         strain <= 3, SWE 1
cyst          round or oval, anechoic                      0           0.15x        soft: strain <= 2, SWE 1
============  ===========================================  ==========  ===========  ======================

Echo is the lesion's echogenicity relative to its surroundings; attenuation relative to the background (a carcinoma
casts a posterior shadow, a cyst a posterior enhancement).

The same author wrote both simulators, so this is a stress test with a different imaging chain, geometry and texture,
not an independent validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage, signal

from usegan.scoring.confidence import FRAME_FACTOR, framed_box

LESION_TYPES = ("carcinoma", "fibroadenoma", "cyst")
FINE_DZ_MM = 0.02  # axial sampling of the RF signal, mm: a third of the carrier period in depth at 12 MHz (Nyquist)
SCATTERERS_PER_MM2 = (20.0, 300.0)  # range of the scatterer density drawn per case
SOUND_SPEED_MM_US = 1.54


@dataclass(frozen=True)
class StressCase:
    """One simulated image: ``bmode`` ``(size, size)`` uint8, ``mask`` ``(size, size)`` bool (the lesion),
    ``lesion_type`` (one of :data:`LESION_TYPES`), ``mm_per_px`` and the imaging draws in ``imaging``."""

    bmode: np.ndarray
    mask: np.ndarray
    lesion_type: str
    mm_per_px: float
    imaging: dict


def lesion_mask(
    rng: np.random.Generator, lesion_type: str, size: int | tuple[int, int], mm_per_px: float
) -> np.ndarray:
    """A ``lesion_type`` outline (the shape column of the table above), 5-15 mm across (at most 0.3 of the shorter
    side), fully inside an image of ``size`` (a side or ``(H, W)``) and no deeper than 0.55 of it: ``(H, W)`` bool."""
    h, w = (size, size) if isinstance(size, int) else size
    side = min(h, w)
    diameter_mm = rng.uniform(min(5.0, 0.2 * side * mm_per_px), min(15.0, 0.3 * side * mm_per_px))
    radius = diameter_mm / 2 / mm_per_px
    depth_mm = h * mm_per_px
    cy = rng.uniform(max(8.0 / mm_per_px, radius * 1.3 + 6), min(0.55 * depth_mm / mm_per_px, h - radius * 1.5))
    cx = rng.uniform(radius * 1.4 + 4, w - radius * 1.4 - 4)
    yy, xx = np.mgrid[:h, :w].astype(np.float64)
    theta = np.arctan2(yy - cy, xx - cx)
    if lesion_type == "carcinoma":
        aspect = rng.uniform(0.9, 1.2)  # height / width: taller than wide is a malignant sign
        modulation = sum(
            rng.uniform(0.05, 0.18) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
            for k in rng.choice(np.arange(5, 14), size=3, replace=False)
        )
        spikes = rng.uniform(0.0, 0.35) * np.maximum(np.cos(rng.integers(6, 12) * theta), 0.0) ** 8
        rad = radius * (1.0 + modulation + spikes)
    elif lesion_type == "fibroadenoma":
        aspect = rng.uniform(0.55, 0.8)
        rad = radius * (1.0 + 0.04 * np.cos(2 * theta + rng.uniform(0, 2 * np.pi)))
    elif lesion_type == "cyst":
        aspect = rng.uniform(0.7, 1.0)
        rad = np.full_like(theta, radius)
    else:
        raise ValueError(f"lesion_type must be one of {LESION_TYPES}, got {lesion_type!r}")
    dist = np.hypot(xx - cx, (yy - cy) / aspect)
    return dist <= rad


def simulate(rng: np.random.Generator, lesion_type: str, size: int = 256) -> StressCase:
    """One :class:`StressCase` of ``lesion_type`` at ``size`` x ``size`` pixels (0.15-0.2 mm each)."""
    mm_per_px = float(rng.uniform(0.15, 0.2))
    f0 = float(rng.uniform(6.0, 12.0))  # MHz
    imaging: dict[str, Any] = {
        "frequency_mhz": f0,
        "scatterers_per_mm2": float(rng.uniform(*SCATTERERS_PER_MM2)),
        "cycles": float(rng.uniform(1.5, 3.0)),
        "beam_fwhm_mm": float(rng.uniform(0.4, 1.1)),
        "tgc_error_db_cm": float(rng.uniform(-3.0, 2.0)),
        "dynamic_range_db": float(rng.uniform(40.0, 70.0)),
        "background_grey": float(rng.uniform(0.3, 0.55)),
        "median_filter": bool(rng.random() < 0.5),
        "gamma": float(rng.uniform(0.8, 1.25)),
        "look": str(rng.choice(["uniform", "layered"])),
    }
    mask = lesion_mask(rng, lesion_type, size, mm_per_px)

    # echogenicity and attenuation at the output resolution
    field = ndimage.gaussian_filter(rng.standard_normal((size, size)), rng.uniform(4.0, 12.0))
    echo = np.exp(rng.uniform(0.15, 0.45) * field / field.std())  # log-normal heterogeneity of the gel
    alpha = np.full((size, size), rng.uniform(0.4, 0.8))  # dB/cm/MHz
    if imaging["look"] == "layered":
        edges = np.sort(rng.uniform(0.05, 0.9, rng.integers(2, 5))) * size
        for i, top in enumerate(edges):
            echo[int(top) :] *= rng.uniform(0.3, 0.7) if i % 2 == 0 else rng.uniform(1.5, 3.0)
        echo[: max(2, int(1.0 / mm_per_px))] = 4.0  # a bright skin line
    background_alpha = float(alpha[0, 0])
    if lesion_type == "carcinoma":
        echo[mask] *= rng.uniform(0.08, 0.3)
        alpha[mask] *= rng.uniform(1.5, 3.0)
    elif lesion_type == "fibroadenoma":
        echo[mask] *= rng.uniform(0.15, 0.45)
        alpha[mask] *= 0.7
    else:
        echo[mask] = 0.0
        alpha[mask] *= 0.15

    # fine RF grid: rows of FINE_DZ_MM, one column per output column
    k = max(1, round(mm_per_px / FINE_DZ_MM))
    dz = mm_per_px / k
    echo_f = np.repeat(echo, k, axis=0)
    alpha_f = np.repeat(alpha, k, axis=0)
    depth_cm = (np.arange(size * k) + 0.5) * dz / 10.0
    loss_db = 2.0 * f0 * np.cumsum(alpha_f, axis=0) * dz / 10.0
    tgc_db = 2.0 * f0 * background_alpha * depth_cm + imaging["tgc_error_db_cm"] * depth_cm
    gain = 10.0 ** ((tgc_db[:, None] - loss_db) / 20.0)
    counts = rng.poisson(imaging["scatterers_per_mm2"] * dz * mm_per_px, echo_f.shape)
    amplitude = rng.standard_normal(echo_f.shape) * np.sqrt(counts * echo_f) * gain

    wavelength_mm = SOUND_SPEED_MM_US / f0
    sigma_z = imaging["cycles"] * wavelength_mm / 2 / 2.355  # pulse-echo: half a wavelength per cycle in depth
    z = np.arange(-4 * sigma_z, 4 * sigma_z + dz, dz)
    pulse = np.cos(2 * np.pi * z / (wavelength_mm / 2)) * np.exp(-0.5 * (z / sigma_z) ** 2)
    rf = ndimage.convolve1d(amplitude, pulse, axis=0, mode="constant")
    rf = ndimage.gaussian_filter1d(rf, imaging["beam_fwhm_mm"] / 2.355 / mm_per_px, axis=1, mode="reflect")
    envelope = np.abs(signal.hilbert(rf, axis=0))
    envelope = envelope.reshape(size, k, size).mean(axis=1)

    outside = ~ndimage.binary_dilation(mask, iterations=8)
    reference = float(np.median(envelope[: size // 2][outside[: size // 2]])) + 1e-12
    db = 20.0 * np.log10(envelope / reference + 1e-6)
    grey = np.clip(imaging["background_grey"] + db / imaging["dynamic_range_db"], 0.0, 1.0)
    if imaging["median_filter"]:
        grey = ndimage.median_filter(grey, size=3)
    grey = grey ** imaging["gamma"]
    return StressCase(np.round(grey * 255).astype(np.uint8), mask, lesion_type, mm_per_px, imaging)


def stress_cases(n_per_type: int, seed: int = 0, size: int = 256) -> list[StressCase]:
    """``n_per_type`` cases of each of :data:`LESION_TYPES` (types interleaved), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return [simulate(rng, t, size) for _ in range(n_per_type) for t in LESION_TYPES]


def framed(case: StressCase, factor: float = FRAME_FACTOR, min_px: int = 32) -> StressCase:
    """``case`` cropped to a square elastography box ``factor`` times the lesion's longer side (at least ``min_px``,
    at most the image), centred on the lesion and moved inside the image: the region a scanner operator frames around
    a lesion, as a case cropped at intake is (the engine scales it to the model's size, as it scales any case)."""
    rows, cols = np.nonzero(case.mask)
    if rows.size == 0:
        raise ValueError("the case has no lesion to frame")
    lesion = (float(cols.min()), float(rows.min()), float(np.ptp(cols) + 1), float(np.ptp(rows) + 1))
    left, top, side = framed_box(lesion, case.mask.shape, factor, min_px)
    window = (slice(top, top + side), slice(left, left + side))
    return StressCase(
        case.bmode[window].copy(), case.mask[window].copy(), case.lesion_type, case.mm_per_px,
        {**case.imaging, "framed": {"factor": factor, "box": [left, top, side, side]}},
    )  # fmt: skip


def reads_as_expected(lesion_type: str, mode: str, score: int | None) -> bool:
    """Whether a proposed score is the reading the table above expects for ``lesion_type``: strain Tsukuba 4-5 for a
    carcinoma, <= 3 for a fibroadenoma, <= 2 for a cyst; SWE 2 (Emax >= 80 kPa) for a carcinoma, 1 otherwise. An
    unscorable lesion (``score`` None) never does."""
    if lesion_type not in LESION_TYPES:
        raise ValueError(f"lesion_type must be one of {LESION_TYPES}, got {lesion_type!r}")
    if score is None:
        return False
    if mode == "strain":
        return {"carcinoma": score >= 4, "fibroadenoma": score <= 3, "cyst": score <= 2}[lesion_type]
    if mode == "swe":
        return score == (2 if lesion_type == "carcinoma" else 1)
    raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")
