"""Phantom lesions pasted into real lesion-free scans, labelled on the lesion and its ring only: *composite* training
cases.

The bundled models read simulated lesions drawn into real scans worse than the same lesions drawn into phantom tissue
(docs/fidelity.md, "The lesion or the tissue around it?"): the real surroundings (skin line, bright septa, dark fat
lobules, the scanner's texture) are what the phantom's training cases never show around a lesion. A composite puts a
phantom lesion, with the tissue just around it, into a real scan, and keeps the phantom's true elastogram only where
the B-mode is the phantom's:

1. **region**: the lesion mask (``(H, W)`` bool, every lesion of the case) dilated by a ring of
   :data:`RING_FRACTION` of the lesion's equivalent radius (at least :data:`MIN_RING_PX` px), inside the phantom's
   elastography box;
2. **scale**: the region's bounding rectangle, resized by the phantom's ``mm_per_px`` over the scan's, so the lesion
   keeps its size in mm;
3. **grey level**: the pasted B-mode is shifted (an additive offset in grey, a gain change of a log-compressed image)
   so the median of its ring matches the median of the real scan's pixels under that ring;
4. **blend**: pasted with a Gaussian-feathered edge (:data:`FEATHER_PX`), in a place whose ring tissue is at least
   :data:`usegan.training.hybrid.MIN_TISSUE_GREY` grey (not the black chest wall or a shadow);
5. **label**: the phantom's strain and SWE colours where the paste is pure (the region eroded by the feather), black
   elsewhere. Black is off the colour map, so :func:`usegan.colormaps.lut_positions` gives NaN there and the trainer
   treats it as fill: the real tissue is never supervised (no elastogram exists for it), the lesion and its ring are.

What it is not: the lesion's posterior shadow or enhancement beyond the ring stays the real scan's, and the lesion's
speckle is the phantom's. The evaluation hybrids (:mod:`usegan.training.hybrid`) render lesions differently (the
second simulator's outlines, the scan's own texture, an echogenicity model, a posterior sign down the columns), and
any scan used as a composite background must stay out of the scans those are drawn into.

Known limits of this first version (``composite-1``, what the strain-comp run of docs/fidelity.md was trained on):
the place is checked by the median of the real tissue under the ring only, so up to half of a ring can lie over
black; ``mask.png`` is the whole scaled lesion, also where the lesion ran past the phantom's box and was not pasted
(0.9 % of the lesion pixels on average over the 721 composites of seed 17, more than a fifth in 3); a region that
touches the phantom image's edge keeps a sharper edge there (the feather reflects at the crop); a satellite lesion
outside the ring is cut; and the label is 96 % or more phantom, not 100 % (4 px inside a Gaussian-feathered edge of
sigma 2 px). In training, a composite and its source phantom case can fall on two sides of the random train /
validation split, and the validation SSIM counts the black unlabelled truth: both touch ``best.pt`` only, not the
final checkpoint the candidates use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from usegan.colormaps import coloured_mask
from usegan.phantom.writer import read_case, read_index, write_index
from usegan.training.hybrid import MIN_TISSUE_GREY
from usegan.training.metrics import lesion_contrast

RING_FRACTION = 0.5  # ring around the lesion, as a fraction of its equivalent radius
MIN_RING_PX = 6  # ring width at least, phantom pixels
FEATHER_PX = 2.0  # Gaussian sigma of the pasted edge, scan pixels
MIN_CONTRAST = 0.8  # lesions the B-mode shows (the visible-lesion rule of docs/fidelity.md); others are skipped
PLACEMENT_TRIES = 50
INDEX_FIELDS = ("name", "lesion_type", "source", "scan", "box_x", "box_y", "box_w", "box_h", "size")


class NoPlaceError(ValueError):
    """No place in a scan fits the region with tissue of at least ``MIN_TISSUE_GREY`` under its ring."""


def lesion_region(mask: np.ndarray, box_colour: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: the lesion ``mask`` (bool) dilated by its ring (step 1), inside ``box_colour`` (bool, the
    phantom's coloured elastography box). Empty when the mask is."""
    mask = np.asarray(mask, bool)
    if not mask.any():
        return np.zeros_like(mask)
    radius = float(np.sqrt(mask.sum() / np.pi))
    ring = max(MIN_RING_PX, round(RING_FRACTION * radius))
    disk = np.hypot(*np.mgrid[-ring : ring + 1, -ring : ring + 1]) <= ring
    return ndimage.binary_dilation(mask, structure=disk) & np.asarray(box_colour, bool)


def composite_case(
    case: dict, scan: np.ndarray, rng: np.random.Generator, scan_mm_per_px: float = 0.18
) -> dict[str, np.ndarray]:
    """Paste the lesion of phantom ``case`` (:func:`usegan.phantom.writer.read_case`) into ``scan`` (``(H, W)``
    uint8 grey, lesion-free): steps 1-5 of the module. Returns ``bmode`` ``(H, W)`` uint8, ``strain_rgb`` /
    ``swe_rgb`` ``(H, W, 3)`` uint8 (black = unlabelled), ``mask`` ``(H, W)`` bool (the pasted lesion) and ``label``
    ``(H, W)`` bool (where the colours are the phantom's). Raises ``ValueError`` for a case without a lesion or a
    region that does not fit the scan or whose ring is too dark to match (below half of
    :data:`~usegan.training.hybrid.MIN_TISSUE_GREY`), :class:`NoPlaceError` when no place has tissue around it."""
    scan = np.asarray(scan)
    if scan.ndim != 2 or scan.dtype != np.uint8:
        raise ValueError(f"scan must be a (H, W) uint8 grey image, got {scan.shape} {scan.dtype}")
    region = lesion_region(case["mask"], coloured_mask(case["strain_rgb"]))
    if not (region & case["mask"]).any():
        raise ValueError(f"case {case.get('name', '?')}: no lesion inside its elastography box")
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    pad = int(np.ceil(2 * FEATHER_PX))
    y0, y1 = max(0, rows[0] - pad), min(region.shape[0], rows[-1] + 1 + pad)
    x0, x1 = max(0, cols[0] - pad), min(region.shape[1], cols[-1] + 1 + pad)
    factor = float(case["meta"]["mm_per_px"]) / scan_mm_per_px
    h, w = max(4, round((y1 - y0) * factor)), max(4, round((x1 - x0) * factor))
    if h >= scan.shape[0] or w >= scan.shape[1]:
        raise ValueError(f"case {case.get('name', '?')}: its lesion region ({h}x{w} px) does not fit the scan")

    def scaled(image: np.ndarray, nearest: bool) -> np.ndarray:
        resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
        return np.asarray(Image.fromarray(image[y0:y1, x0:x1]).resize((w, h), resample))

    grey = scaled(case["bmode"], nearest=False).astype(np.float64) / 255.0
    lesion = scaled(case["mask"].astype(np.uint8) * 255, nearest=True) > 127
    pasted = scaled(region.astype(np.uint8) * 255, nearest=True) > 127
    strain, swe = scaled(case["strain_rgb"], nearest=True), scaled(case["swe_rgb"], nearest=True)
    ring = pasted & ~ndimage.binary_dilation(lesion, iterations=2)
    if ring.sum() < 4:
        ring = pasted & ~lesion
    if np.median(grey[ring]) < MIN_TISSUE_GREY / 2:  # crushed blacks: a grey shift would leave a flat patch
        raise ValueError(f"case {case.get('name', '?')}: the tissue around its lesion is too dark to match a scan's")
    real = scan.astype(np.float64) / 255.0
    for _ in range(PLACEMENT_TRIES):
        top, left = int(rng.integers(0, scan.shape[0] - h)), int(rng.integers(0, scan.shape[1] - w))
        under = real[top : top + h, left : left + w]
        if np.median(under[ring]) >= MIN_TISSUE_GREY:
            break
    else:
        raise NoPlaceError(f"no place with tissue of grey >= {MIN_TISSUE_GREY} around the lesion")
    shifted = np.clip(grey + (np.median(under[ring]) - np.median(grey[ring])), 0.0, 1.0)
    alpha = ndimage.gaussian_filter(pasted.astype(np.float64), FEATHER_PX)
    label = ndimage.binary_erosion(pasted, iterations=pad) & (alpha > 0.5)
    out = real.copy()
    out[top : top + h, left : left + w] = under * (1.0 - alpha) + shifted * alpha
    full = {"mask": np.zeros(scan.shape, bool), "label": np.zeros(scan.shape, bool)}
    full["mask"][top : top + h, left : left + w] = lesion
    full["label"][top : top + h, left : left + w] = label
    result = {"bmode": np.round(out * 255.0).astype(np.uint8), **full}
    for key, colours in (("strain_rgb", strain), ("swe_rgb", swe)):
        canvas = np.zeros((*scan.shape, 3), np.uint8)
        canvas[top : top + h, left : left + w][label] = colours[label]
        result[key] = canvas
    return result


def elastography_box(mask: np.ndarray, rng: np.random.Generator, whole: float = 0.5) -> tuple[int, int, int, int]:
    """``(x, y, w, h)``: the whole image with probability ``whole``, else a square box 2.5-4x the lesion's larger
    side around it (as an operator places the elastography box), its centre jittered by up to a quarter of the
    lesion's size, clipped to the image. ``mask`` ``(H, W)`` bool, not empty."""
    height, width = mask.shape
    if rng.random() < whole:
        return 0, 0, width, height
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    extent = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    side = min(height, width, round(extent * rng.uniform(2.5, 4.0)))
    cy = (rows[0] + rows[-1]) / 2 + rng.uniform(-0.25, 0.25) * extent
    cx = (cols[0] + cols[-1]) / 2 + rng.uniform(-0.25, 0.25) * extent
    y = int(np.clip(round(cy - side / 2), 0, height - side))
    x = int(np.clip(round(cx - side / 2), 0, width - side))
    return x, y, side, side


def write_composites(
    phantoms: str | Path,
    scans: Sequence[tuple[str, np.ndarray]],
    out: str | Path,
    seed: int = 0,
    scan_mm_per_px: float = 0.18,
    include_phantoms: bool = True,
) -> dict[str, int]:
    """One composite per lesion case of the ``usegan phantom`` folder ``phantoms`` whose lesion the B-mode shows
    (:data:`MIN_CONTRAST`), each into a scan drawn from ``scans`` (``(name, (H, W) uint8)`` pairs), written to
    ``out`` in the phantom layout :class:`usegan.datasets.PhantomDataset` reads; with ``include_phantoms`` the
    phantom's own cases are listed too (linked, not copied), so ``out`` is one training folder. Returns counts
    ``{"composites", "skipped_invisible", "skipped_no_fit", "phantoms"}``."""
    if not scans:
        raise ValueError("write_composites needs at least one real scan")
    phantoms, out = Path(phantoms), Path(out)
    out.mkdir(parents=True, exist_ok=False)
    rng = np.random.default_rng(seed)
    rows, counts = [], {"composites": 0, "skipped_invisible": 0, "skipped_no_fit": 0, "phantoms": 0}
    for row in read_index(phantoms):
        if include_phantoms:
            (out / row["name"]).symlink_to((phantoms / row["name"]).resolve(), target_is_directory=True)
            rows.append({"name": row["name"], "lesion_type": row["lesion_type"], "source": "phantom", "scan": "",
                         **{k: row[k] for k in ("box_x", "box_y", "box_w", "box_h", "size")}})  # fmt: skip
            counts["phantoms"] += 1
        if row["lesion_type"] in ("", "none"):
            continue
        case = read_case(phantoms / row["name"])
        if lesion_contrast(case["bmode"].astype(np.float64), case["mask"]) < MIN_CONTRAST:
            counts["skipped_invisible"] += 1
            continue
        scan_name, scan = scans[int(rng.integers(len(scans)))]
        try:
            made = composite_case(case, scan, rng, scan_mm_per_px)
        except ValueError:  # no place, too large for the scan, or too dark
            counts["skipped_no_fit"] += 1
            continue
        x, y, w, h = elastography_box(made["mask"], rng)
        name = f"composite_{row['name']}"
        folder = out / name
        folder.mkdir()
        Image.fromarray(made["bmode"]).save(folder / "bmode.png")
        Image.fromarray(made["mask"].astype(np.uint8) * 255).save(folder / "mask.png")
        Image.fromarray(made["strain_rgb"]).save(folder / "strain.png")
        Image.fromarray(made["swe_rgb"]).save(folder / "swe.png")
        meta = {
            "version": "composite-1",
            "source": {"phantom": str(phantoms / row["name"]), "scan": scan_name, "scan_mm_per_px": scan_mm_per_px},
            "params": {"lesion_type": row["lesion_type"]},
            "box": {"x": x, "y": y, "w": w, "h": h},
            "modes": {"strain": {"file": "strain.png"}, "swe": {"file": "swe.png"}},
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        rows.append({"name": name, "lesion_type": row["lesion_type"], "source": "composite", "scan": scan_name,
                     "box_x": x, "box_y": y, "box_w": w, "box_h": h, "size": made["bmode"].shape[0]})  # fmt: skip
        counts["composites"] += 1
    write_index(rows, out, INDEX_FIELDS)
    return counts
