"""Simulated lesions inserted into real lesion-free B-mode scans: *hybrid* stress cases.

The nearest stand-in here for the independent check on real images with biopsy-known lesions: the anatomy, the
scanner's imaging chain, its speckle reduction and its depth fall-off are those of a real scan (for instance the BUSI
"normal" class: Al-Dhabyani et al., Data in Brief 28 (2020) 104863; never copied into this repository), and only the
lesion is simulated. Each case takes one real scan and one outline from :func:`usegan.training.rfsim.lesion_mask`
(carcinoma irregular and spiculated, fibroadenoma a smooth oval wider than tall, cyst round or oval, 5-15 mm) and
edits the grey levels as a log-compressed display would show the lesion:

1. **grey -> dB above black**: ``D = grey * DR``, the display's dynamic range ``DR`` drawn in :data:`DYNAMIC_RANGE_DB`
   per case (the scans do not say theirs);
2. **inside**: the tissue level around the lesion (median of ``D`` in the ring 4-8 px outside it,
   :func:`surrounding_ring`) plus the lesion's echogenicity in dB (:data:`ECHO`: carcinoma -22 to -10 dB,
   fibroadenoma -16 to -7 dB, as in :mod:`usegan.training.rfsim`) plus the scan's own speckle texture (``D`` minus
   its 2 px Gaussian blur) taken from another place of the same scan, so the lesion has the scanner's speckle but not
   the anatomy under it; a cyst is anechoic: 1-4 % of ``DR`` above black with a tenth of that texture;
3. **margin**: blended over a Gaussian of the outline (:data:`MARGIN_PX`: 1-2 px for a carcinoma's indistinct
   margin, 0.5 px for the circumscribed ones);
4. **behind the lesion**, down each column from the lesion's lower edge to the bottom: a shadow (carcinoma) or an
   enhancement (cyst, fibroadenoma) of :data:`POSTERIOR_DB`, scaled by the column's share of the lesion's thickness.

Lesions are placed where the tissue around them is at least :data:`MIN_TISSUE_GREY` (gland or fat, not the black
chest wall or a shadow), as breast masses sit in the gland. The expected readings are those of
:func:`usegan.training.rfsim.reads_as_expected` (carcinoma hard, fibroadenoma not hard, cyst soft): echogenicity,
margin and posterior sign are each type's clinical appearance; stiffness itself is not modelled. These are not real
lesions, and the lesion model, the phantom and the second simulator have one author: the check says whether a model
reads a simulated lesion as expected on real anatomy and a real scanner's texture, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import ndimage

from usegan.training.rfsim import LESION_TYPES, StressCase, lesion_mask

DYNAMIC_RANGE_DB = (50.0, 70.0)  # assumed display dynamic range of the real scans, drawn per case
ECHO = {"carcinoma": (0.08, 0.3), "fibroadenoma": (0.15, 0.45)}  # echogenicity relative to the tissue around
MARGIN_PX = {"carcinoma": (1.0, 2.0), "fibroadenoma": (0.5, 0.5), "cyst": (0.5, 0.5)}  # Gaussian sigma of the edge
POSTERIOR_DB = {"carcinoma": (-12.0, -4.0), "fibroadenoma": (0.0, 3.0), "cyst": (3.0, 8.0)}  # shadow < 0 < enhancement
MIN_TISSUE_GREY = 0.2  # median grey (0-1) of the ring around a placed lesion
PLACEMENT_TRIES = 50


class NoPlaceError(ValueError):
    """A scan has no place for a lesion with tissue of at least :data:`MIN_TISSUE_GREY` around it."""


def surrounding_ring(mask: np.ndarray) -> np.ndarray:
    """The tissue around a lesion: ``(H, W)`` bool, the pixels 4-8 px (city-block distance) outside ``mask``
    (``(H, W)`` bool). Its median grey decides where a lesion may go and sets the level the lesion's echogenicity is
    counted from."""
    return ndimage.binary_dilation(mask, iterations=8) & ~ndimage.binary_dilation(mask, iterations=3)


def insert_lesion(
    scan: np.ndarray, lesion_type: str, rng: np.random.Generator, mm_per_px: float = 0.18, name: str = ""
) -> StressCase:
    """``scan`` (``(H, W)`` uint8 grey, a lesion-free real B-mode) with one simulated ``lesion_type`` lesion drawn
    into it (steps 1-4 of the module): a :class:`~usegan.training.rfsim.StressCase` whose ``imaging`` holds the scan's
    ``name`` and the draws. Raises ``ValueError`` for a bad ``lesion_type`` or ``scan``, or
    :class:`NoPlaceError` (a ``ValueError``) when no place in
    :data:`PLACEMENT_TRIES` draws has tissue of at least :data:`MIN_TISSUE_GREY` around it."""
    if lesion_type not in LESION_TYPES:
        raise ValueError(f"lesion_type must be one of {LESION_TYPES}, got {lesion_type!r}")
    scan = np.asarray(scan)
    if scan.ndim != 2 or scan.dtype != np.uint8 or min(scan.shape) < 64:
        raise ValueError(f"scan must be a (H, W) uint8 grey image of at least 64 px, got {scan.shape} {scan.dtype}")
    grey = scan.astype(np.float64) / 255.0
    h, w = grey.shape
    for _ in range(PLACEMENT_TRIES):
        mask = lesion_mask(rng, lesion_type, (h, w), mm_per_px)
        ring = surrounding_ring(mask)
        if np.median(grey[ring]) >= MIN_TISSUE_GREY:
            break
    else:
        raise NoPlaceError(f"scan {name or '(unnamed)'}: no place with tissue of grey >= {MIN_TISSUE_GREY} around it")
    dynamic_range = float(rng.uniform(*DYNAMIC_RANGE_DB))
    shift = (int(rng.integers(h // 4, 3 * h // 4)), int(rng.integers(w // 4, 3 * w // 4)))
    echo_db = None if lesion_type == "cyst" else float(20.0 * np.log10(rng.uniform(*ECHO[lesion_type])))
    cyst_level = float(rng.uniform(0.01, 0.04)) if lesion_type == "cyst" else None
    imaging = {
        "scan": name,
        "dynamic_range_db": dynamic_range,
        "echo_db": echo_db,
        "cyst_level": cyst_level,
        "margin_px": float(rng.uniform(*MARGIN_PX[lesion_type])),
        "posterior_db": float(rng.uniform(*POSTERIOR_DB[lesion_type])),
        "texture_shift": list(shift),
    }
    return StressCase(_render(grey, mask, imaging), mask, lesion_type, mm_per_px, imaging)


def redraw(case: StressCase, scan: np.ndarray, name: str = "") -> StressCase:
    """The lesion of hybrid ``case`` (outline, echogenicity, margin, posterior sign, display range, texture offset)
    drawn into another ``scan`` (``(H, W)`` uint8 grey of the case's size) at the same place, with no placement
    check: what the same lesion looks like on other anatomy, for instance a phantom's lesion-free scan (is a miss
    the lesion or the tissue around it?). ``redraw(case, original_scan)`` gives ``case`` back."""
    scan = np.asarray(scan)
    if scan.shape != case.mask.shape or scan.dtype != np.uint8:
        raise ValueError(f"scan must be {case.mask.shape} uint8 grey like the case's, got {scan.shape} {scan.dtype}")
    imaging = {**case.imaging, "scan": name}
    return replace(case, bmode=_render(scan.astype(np.float64) / 255.0, case.mask, imaging), imaging=imaging)


def _render(grey: np.ndarray, mask: np.ndarray, imaging: dict) -> np.ndarray:
    """Steps 1-4 of the module: ``grey`` (``(H, W)`` in [0, 1]) with the lesion of ``mask`` drawn as ``imaging``
    (an ``insert_lesion`` case's draws) says -> ``(H, W)`` uint8."""
    h = grey.shape[0]
    dynamic_range = imaging["dynamic_range_db"]
    db = grey * dynamic_range
    ring = surrounding_ring(mask)
    texture = np.roll(db - ndimage.gaussian_filter(db, 2.0), tuple(imaging["texture_shift"]), axis=(0, 1))
    if imaging["echo_db"] is None:  # a cyst: anechoic
        inside = imaging["cyst_level"] * dynamic_range + 0.1 * texture
    else:
        inside = float(np.median(db[ring])) + imaging["echo_db"] + texture
    weight = ndimage.gaussian_filter(mask.astype(np.float64), imaging["margin_px"])
    db = db * (1.0 - weight) + inside * weight

    thickness = mask.sum(axis=0)
    bottom = np.where(thickness > 0, h - 1 - np.argmax(mask[::-1], axis=0), h)
    behind = np.arange(h)[:, None] > bottom[None, :]
    db += ndimage.gaussian_filter1d(
        imaging["posterior_db"] * behind * (thickness / thickness.max())[None, :], 1.5, axis=1
    )
    return np.round(np.clip(db / dynamic_range, 0.0, 1.0) * 255.0).astype(np.uint8)


def hybrid_cases(
    scans: Sequence[tuple[str, np.ndarray]], n_per_type: int, seed: int = 0, mm_per_px: float = 0.18
) -> list[StressCase]:
    """``n_per_type`` hybrid cases of each of :data:`~usegan.training.rfsim.LESION_TYPES` (types interleaved), each on
    a scan drawn from ``scans`` (``(name, (H, W) uint8 grey)`` pairs), reproducible from ``seed``."""
    if not scans:
        raise ValueError("hybrid_cases needs at least one real scan")
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_per_type):
        for lesion_type in LESION_TYPES:
            cases.append(_insert_somewhere(scans, lesion_type, rng, mm_per_px))
    return cases


def _insert_somewhere(
    scans: Sequence[tuple[str, np.ndarray]], lesion_type: str, rng: np.random.Generator, mm_per_px: float
) -> StressCase:
    """:func:`insert_lesion` into a scan drawn from ``scans``, drawing another where one has no place for it."""
    for _ in range(10):
        name, scan = scans[int(rng.integers(len(scans)))]
        try:
            return insert_lesion(scan, lesion_type, rng, mm_per_px, name)
        except NoPlaceError:
            continue
    raise ValueError(f"no place for a {lesion_type} in 10 scans drawn: are the scans mostly black?")
