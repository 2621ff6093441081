"""Real (measured) elastograms into the archive: a bundled sample's truth, or a scanner's elastogram upload."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from usegan.colormaps import colormap_for
from usegan.intake.pipeline import IntakeImage
from usegan.intake.scanner_maps import ScannerMap
from usegan.screencrop import CropBox
from usegan.vocab import Mode


def attach_sample_truth(store, case_id: str, sample, crop: CropBox, *, user: str) -> list[str]:
    """Attach a sample's true strain / SWE images (cropped like its B-mode) as real elastograms; returns their ids."""
    from usegan.imageio import load_image

    modes = sample.meta.get("modes") or {}
    ids = []
    for mode in Mode:
        path = sample.folder / f"{mode}.png"
        if not path.is_file():
            continue
        rgb = np.ascontiguousarray(crop.apply(np.asarray(load_image(path))[..., :3]), dtype=np.uint8)
        info = modes.get(mode) or {}
        scale = {k: info[k] for k in ("vmin", "vmax", "unit") if k in info} or None
        ids.append(
            store.attach_real_elastogram(
                case_id, rgb, mode, "phantom truth (simulated)", created_by=user, colour_scale=scale
            )
        )
    return ids


@dataclass(frozen=True)
class ElastogramPair:
    """A real elastogram with its B-mode, before they become a case: two files, or one dual-display capture."""

    bmode: IntakeImage  # the B-mode file (or the dual capture) as read
    bmode_crop: CropBox  # the B-mode's image area in it
    elastogram: np.ndarray = field(repr=False)  # (h, w, 3) uint8 as the scanner drew it, the crop's size
    layout: str  # "two files" or "dual capture"


def read_pair(intake, bmode_data: bytes, bmode_name: str, elasto_data: bytes | None = None,
              elasto_name: str = "") -> ElastogramPair:  # fmt: skip
    """Read a B-mode and its real elastogram. ``elasto_data`` ``None``: ``bmode_data`` is one dual-display capture,
    split into its two panels (:func:`usegan.screencrop.suggest_dual_crop`). Raises ``ValueError`` saying why."""
    from usegan.imageio import to_rgb_uint8
    from usegan.screencrop import suggest_dual_crop

    bmode = intake.read(bmode_data, bmode_name)
    if elasto_data is None:
        panels = suggest_dual_crop(bmode.pixels)
        if panels is None:
            raise ValueError(
                f"{bmode_name}: no dual display found (two panels of the same size side by side); upload the "
                "elastogram as a second file"
            )
        bmode_box, elasto_box = panels
        rgb = to_rgb_uint8(elasto_box.apply(bmode.pixels))
        return ElastogramPair(bmode, bmode_box, np.ascontiguousarray(rgb), "dual capture")
    elasto = intake.read(elasto_data, elasto_name or "elastogram")
    crop = bmode.suggested_crop
    if elasto.pixels.shape[:2] == bmode.pixels.shape[:2]:  # two captures of one screen layout: the same area
        rgb = crop.apply(elasto.pixels)
    elif elasto.pixels.shape[:2] == (crop.h, crop.w):  # the elastogram exported at the image area's size
        rgb = elasto.pixels
    else:
        raise ValueError(
            f"{elasto.name} is {elasto.width}x{elasto.height} px but the B-mode's image area is {crop.w}x{crop.h} "
            f"(of {bmode.width}x{bmode.height}): export both at the same size, or as one dual-display capture"
        )
    return ElastogramPair(bmode, crop, np.ascontiguousarray(to_rgb_uint8(rgb)), "two files")


def create_pair_case(
    intake,
    pair: ElastogramPair,
    scanner_map: ScannerMap,
    *,
    user: str,
    organ: str | None = None,
    side: str | None = None,
    patient_id: str | None = None,
    notes: str = "",
    max_unknown: float = 0.95,
) -> tuple[str, str]:
    """Create the case (through the intake pipeline) and attach its real elastogram in the product's colours.

    Returns ``(case_id, elastogram_id)``. Once the case is signed it becomes a training pair
    (:mod:`usegan.finetune.pairs`). Refused (``ValueError``, nothing stored) when more than ``max_unknown`` of the
    elastogram's pixels are on none of the scanner map's colours (an elastography box covers part of the image,
    but not under 5 % of it): the wrong map, or not an elastogram.
    """
    from PIL import Image

    product_rgb, unknown = scanner_map.to_product_colours(pair.elastogram)
    if unknown > max_unknown:
        raise ValueError(
            f"{unknown:.0%} of the elastogram's pixels match no colour of '{scanner_map.name}': choose the "
            "scanner's colour map (or crop its colour bar), or check that the second file is the elastogram"
        )
    text = f"real {scanner_map.mode} elastogram uploaded ({pair.layout}, scanner map: {scanner_map.name})"
    case_id = intake.create_case(
        pair.bmode, user=user, crop=pair.bmode_crop, organ=organ, side=side, patient_id=patient_id,
        notes="; ".join(t for t in (notes.strip(), text) if t),
    )  # fmt: skip
    case = intake.store.get_case(case_id)
    if product_rgb.shape[:2] != (case.height, case.width):  # the B-mode was stored as its reading copy
        size = (case.width, case.height)
        product_rgb = np.asarray(Image.fromarray(product_rgb).resize(size, Image.Resampling.NEAREST))
    scale = {"vmin": float(colormap_for(scanner_map.mode).vmin), "vmax": float(colormap_for(scanner_map.mode).vmax),
             "unit": colormap_for(scanner_map.mode).unit, "scanner_map": scanner_map.name,
             "scanner_range": [scanner_map.vmin, scanner_map.vmax], "unknown_fraction": round(unknown, 4)}  # fmt: skip
    elastogram_id = intake.store.attach_real_elastogram(
        case_id, np.ascontiguousarray(product_rgb), scanner_map.mode, f"uploaded ({scanner_map.name})",
        created_by=user, colour_scale=scale,
    )  # fmt: skip
    return case_id, elastogram_id
