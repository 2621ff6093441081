"""Checks of a generator on images it was not trained on: off-map pixels, false-hard regions, garbage inputs.

**False-hard region** (what a clinician would draw an ROI around on a scan that has no lesion): a connected region
of the virtual elastogram that reads *hard* — strain: normalised strain <= ``HARD_STRAIN`` (blue on the SE map);
SWE: >= ``HARD_SWE_KPA`` kPa (at or above the breast cut-off for a suspicious Emax) — that is *compact* (equivalent
diameter >= ``min_diameter_mm``, solidity >= ``min_solidity``, height >= 0.3 x width, i.e. a mass, not a thin layer)
and does not lie in the bottom ``bottom_margin`` of the image (the chest wall, where no breast lesion is looked for).
A scan *is false-hard* when it has at least one. Used on lesion-free real scans, where every such region is false.

**Cautioned** (:func:`cautioned`): whether the review page and the report would put the quality map's caution ("the
B-mode does not determine the stiffness here", :mod:`usegan.scoring.confidence`) on an ROI drawn over a region: asked
of false-hard regions and of true lesions alike, it says whether the model's uncertainty tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

HARD_STRAIN = 0.2  # normalised strain at or below this is shown blue (hard) on the strain map
HARD_SWE_KPA = 80.0  # Young's modulus at or above this is suspicious on breast SWE


@dataclass(frozen=True)
class HardRegion:
    centroid_xy: tuple[float, float]  # pixels
    area_px: int  # pixels
    diameter_mm: float  # equivalent-circle diameter
    solidity: float  # area / convex-hull area
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)  # (H, W) bool: its pixels


def hard_mask(scalar: np.ndarray, mode: str) -> np.ndarray:
    """``(H, W)`` bool: pixels of a strain (normalised) or SWE (kPa) scalar map that read hard."""
    if mode == "strain":
        return np.asarray(scalar) <= HARD_STRAIN
    if mode == "swe":
        return np.asarray(scalar) >= HARD_SWE_KPA
    raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")


def false_hard_regions(
    scalar: np.ndarray,
    mode: str,
    mm_per_px: float,
    min_diameter_mm: float = 3.0,
    min_solidity: float = 0.7,
    bottom_margin: float = 0.1,
) -> list[HardRegion]:
    """Compact hard regions (see the module docstring) of an ``(H, W)`` scalar map with ``mm_per_px`` spacing."""
    from skimage.measure import regionprops

    if not mm_per_px > 0:
        raise ValueError(f"mm_per_px must be positive, got {mm_per_px!r}")
    mask = ndimage.binary_opening(hard_mask(scalar, mode), iterations=1)
    labels, _ = ndimage.label(mask)
    height = mask.shape[0]
    found = []
    for region in regionprops(labels):
        diameter_mm = float(region.equivalent_diameter_area) * mm_per_px
        rows = region.bbox[2] - region.bbox[0]
        cols = region.bbox[3] - region.bbox[1]
        cy, cx = region.centroid
        if (
            diameter_mm >= min_diameter_mm
            and region.solidity >= min_solidity
            and rows >= 0.3 * cols
            and cy < (1.0 - bottom_margin) * height
        ):
            found.append(HardRegion((float(cx), float(cy)), int(region.area), diameter_mm, float(region.solidity),
                                    labels == region.label))  # fmt: skip
    return found


def cautioned(
    rgb: np.ndarray, colormap, uncertainty: np.ndarray | None, mask: np.ndarray, sd_fraction: float | None = None
) -> bool | None:
    """Whether an ROI over ``mask`` (``(H, W)`` bool) on the virtual elastogram ``rgb`` (``(H, W, 3)`` uint8, drawn
    in ``colormap``) gets the quality map's caution, built as the review page and the report build it: from the
    model's ``uncertainty`` (``(H, W)`` SD in the scale's units; None: the colour-map distance stands in), unsure
    above ``sd_fraction`` of the scale (None: the app's). The ROI is ``mask`` itself, not the rectangle or ellipse
    a reader would draw over it: an idealised caution. None when the mask has no coloured pixel."""
    from usegan.colormaps import coloured_mask
    from usegan.scoring.confidence import quality_map, roi_confidence

    distance = colormap.invert(rgb)[1] if uncertainty is None else None  # with an SD map the distance is not read
    extra = {} if sd_fraction is None else {"sd_fraction": sd_fraction}
    sure = roi_confidence(quality_map(distance, colormap, uncertainty, inside=coloured_mask(rgb), **extra), mask)
    return None if sure is None else sure.caution


def garbage_images(height: int = 256, width: int = 256) -> dict[str, np.ndarray]:
    """Inputs that are not B-mode images, ``{name: (height, width) uint8}``: uniform noise, all black, all white
    and a picture of text. Every virtual elastogram of them must still be on the colour map (issue 12)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    text = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(text)
    for row in range(max(1, (height - 8) // 15)):
        draw.text((4, 4 + 15 * row), "THE QUICK BROWN FOX 0123456789", fill=0)
    return {
        "noise": rng.integers(0, 256, (height, width), dtype=np.uint8),
        "black": np.zeros((height, width), np.uint8),
        "white": np.full((height, width), 255, np.uint8),
        "text": np.asarray(text),
    }


def second_simulator_report(engine, cases: list, outputs: list | None = None) -> dict:
    """Score each lesion of :func:`usegan.training.rfsim.stress_cases` ``cases`` on ``engine``'s virtual elastograms
    (the proposal inside the true lesion mask) and count, per lesion type, how many read as that type is expected to
    (:func:`~usegan.training.rfsim.reads_as_expected`), how many of those the B-mode shows (``visible``:
    :func:`~usegan.training.metrics.lesion_contrast` >= ``VISIBLE_LESION_CONTRAST``, as ``usegan evaluate``) and
    how many of the visible ones read as expected, how many cannot be scored, how many an ROI on the lesion would
    be :func:`cautioned` on (``cautioned``), the scores proposed, and the largest off-map fraction of any image;
    ``per_case`` holds each case's proposed score (None: unscorable), in order. ``engine``: a
    :class:`usegan.inference.VirtualElastographer`; ``outputs``: its elastograms of ``cases`` when already
    generated."""
    from usegan.inference import on_map_fraction_off
    from usegan.scoring import propose
    from usegan.training.metrics import VISIBLE_LESION_CONTRAST, lesion_contrast
    from usegan.training.rfsim import reads_as_expected

    mode, cmap = engine.info.mode, engine.info.colormap
    if outputs is None:
        outputs = engine.generate_batch([case.bmode for case in cases])
    by_type: dict[str, dict] = {}
    per_case: list[int | None] = []
    off_map = 0.0
    for case, out in zip(cases, outputs, strict=True):
        score = propose(out.rgb, mode, case.mask, colormap=cmap, scalar=out.scalar).score
        per_case.append(score)
        off_map = max(off_map, on_map_fraction_off(out.rgb, cmap))
        row = by_type.setdefault(
            case.lesion_type,
            {
                "n": 0,
                "as_expected": 0,
                "visible": 0,
                "visible_as_expected": 0,
                "unscorable": 0,
                "cautioned": 0,
                "scores": {},
            },
        )
        expected = reads_as_expected(case.lesion_type, mode, score)
        visible = lesion_contrast(case.bmode.astype(np.float32), case.mask) >= VISIBLE_LESION_CONTRAST
        row["n"] += 1
        row["as_expected"] += int(expected)
        row["visible"] += int(visible)
        row["visible_as_expected"] += int(visible and expected)
        row["unscorable"] += int(score is None)
        row["cautioned"] += int(bool(cautioned(out.rgb, cmap, getattr(out, "uncertainty", None), case.mask)))
        key = "none" if score is None else str(score)
        row["scores"][key] = row["scores"].get(key, 0) + 1
    for row in by_type.values():
        row["scores"] = dict(sorted(row["scores"].items()))
        row["rate"] = row["as_expected"] / row["n"]
    total = sum(r["n"] for r in by_type.values())
    shown = sum(r["visible"] for r in by_type.values())
    return {
        "n_cases": total,
        "as_expected_rate": sum(r["as_expected"] for r in by_type.values()) / total if total else None,
        "visible_as_expected_rate": (
            sum(r["visible_as_expected"] for r in by_type.values()) / shown if shown else None
        ),
        "unscorable": sum(r["unscorable"] for r in by_type.values()),
        "off_map_max": off_map,
        "by_type": by_type,
        "per_case": per_case,
    }


SHALLOW_ROW = 80 / 256  # a lesion whose centre lies above this share of the image height is shallow (~14 mm here)


def depth_split(cases: list, mode: str, proposals: list, above: float = SHALLOW_ROW) -> dict:
    """How many lesions of ``cases`` (:class:`usegan.training.rfsim.StressCase`) read as expected (``proposals``:
    one score per case, None = unscorable; framed proposals count by their case's depth in the whole image) when
    shallow (the mask's centre row above ``above`` x the image height) and when deep: ``{"above", "by_type":
    {type: {"shallow": {"n", "as_expected"}, "deep": {...}}}}``. On lesions drawn into real scans strain v4 missed the
    shallow carcinomas most (docs/fidelity.md)."""
    from usegan.training.rfsim import reads_as_expected

    if len(cases) != len(proposals):
        raise ValueError(f"one proposal per case: {len(cases)} cases, {len(proposals)} proposals")
    table: dict[str, dict] = {}
    for case, score in zip(cases, proposals, strict=True):
        place = "shallow" if np.nonzero(case.mask)[0].mean() < above * case.mask.shape[0] else "deep"
        row = table.setdefault(case.lesion_type, {p: {"n": 0, "as_expected": 0} for p in ("shallow", "deep")})
        row[place]["n"] += 1
        row[place]["as_expected"] += int(reads_as_expected(case.lesion_type, mode, score))
    return {"above": above, "by_type": dict(sorted(table.items()))}


def framing_gain(cases: list, mode: str, whole: list, framed: list, below: float | None = None) -> dict:
    """For the lesions of ``cases`` (:func:`usegan.training.rfsim.stress_cases`) smaller in the frame than
    ``below`` (the lesion's longer side / the image's shorter side; default
    :data:`usegan.scoring.confidence.SMALL_IN_FRAME`, where the review page offers its framed reading): per lesion
    type, ``{"n", "whole", "framed"}``, how many read as expected on the whole image (proposals ``whole``, one per
    case, None = unscorable) and framed (``framed``): what the framed reading changes where it is offered."""
    from usegan.scoring.confidence import SMALL_IN_FRAME, framing
    from usegan.training.rfsim import reads_as_expected

    below = SMALL_IN_FRAME if below is None else below
    if not len(cases) == len(whole) == len(framed):
        raise ValueError(f"one proposal per case: {len(cases)} cases, {len(whole)} whole, {len(framed)} framed")
    table: dict[str, dict] = {}
    for case, on_whole, on_framed in zip(cases, whole, framed, strict=True):
        share = framing(case.mask)
        if share is None or share.fraction >= below:
            continue
        row = table.setdefault(case.lesion_type, {"n": 0, "whole": 0, "framed": 0})
        row["n"] += 1
        row["whole"] += int(reads_as_expected(case.lesion_type, mode, on_whole))
        row["framed"] += int(reads_as_expected(case.lesion_type, mode, on_framed))
    return {"below": below, "by_type": dict(sorted(table.items()))}
