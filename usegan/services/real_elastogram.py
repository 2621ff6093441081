"""A new case with the scanner's real elastogram: the B-mode and its elastogram as two files, or one dual-display
screen capture split automatically; the scanner's colour map chosen from :data:`SCANNER_MAPS` or built from a crop
of its colour bar. Once the case is signed, it is a training pair for fine-tuning (:mod:`usegan.finetune.pairs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.intake.elastogram import ElastogramPair, create_pair_case, read_pair
from usegan.intake.pipeline import Intake, cropped_gray
from usegan.intake.scanner_maps import SCANNER_MAPS, ScannerMap, map_from_colour_bar
from usegan.screencrop import CropBox

SCANNER_MAP_NAMES = tuple(SCANNER_MAPS)
BAR_ENDS = ("bottom", "top", "left", "right")  # where the colour bar's low value is


@dataclass(frozen=True)
class PairPreview:
    """What the page shows before creating the case."""

    pair: ElastogramPair
    bmode: np.ndarray  # (h, w) uint8: the B-mode's image area, as the case will store it
    product: np.ndarray  # (h, w, 3) uint8: the elastogram redrawn in the product's colour map
    unknown: float  # share of the elastogram's pixels on none of the scanner map's colours (0..1)


def read_elastogram_pair(
    store, bmode: tuple[str, bytes], elastogram: tuple[str, bytes] | None = None, settings=None
) -> ElastogramPair:
    """``bmode`` / ``elastogram`` as ``(file name, bytes)``; without ``elastogram`` the B-mode file is a dual-display
    capture split in two. ``ValueError`` (or ``ImageLoadError``) says what is wrong."""
    intake = Intake(store, settings)
    if elastogram is None:
        return read_pair(intake, bmode[1], bmode[0])
    return read_pair(intake, bmode[1], bmode[0], elastogram[1], elastogram[0])


def colour_bar_map(pixels: np.ndarray, bar: CropBox, mode: str, vmin: float, vmax: float, low_at: str) -> ScannerMap:
    """A scanner map from the crop ``bar`` of ``pixels`` (the capture showing the scanner's colour bar)."""
    from usegan.imageio import to_rgb_uint8

    box = bar.validate(pixels.shape[0], pixels.shape[1], "colour bar")
    return map_from_colour_bar(to_rgb_uint8(box.apply(pixels)), mode, vmin, vmax, low_at=low_at)


def preview_pair(pair: ElastogramPair, scanner_map: ScannerMap) -> PairPreview:
    product, unknown = scanner_map.to_product_colours(pair.elastogram)
    bmode = cropped_gray(pair.bmode.pixels, pair.bmode_crop, pair.bmode.name)
    return PairPreview(pair, bmode, product, unknown)


def create_case_with_elastogram(
    store,
    pair: ElastogramPair,
    scanner_map: ScannerMap,
    *,
    user: str,
    organ: str | None = None,
    side: str | None = None,
    patient_id: str | None = None,
    notes: str = "",
    settings=None,
) -> str:
    """Create the case through the intake pipeline with its real elastogram attached; returns the case id.

    Refused (``ValueError``, nothing stored) when the elastogram's colours do not match the scanner map."""
    case_id, _ = create_pair_case(
        Intake(store, settings), pair, scanner_map, user=user, organ=organ, side=side or None,
        patient_id=patient_id or None, notes=notes,
    )  # fmt: skip
    return case_id
