"""Scanner colour maps: how a measured elastogram's colours turn into values, and back into the product's colours.

A real elastogram is stored in the product's own colour map (:func:`usegan.colormaps.colormap_for`), so that a
training pair teaches the model the colours it must produce. Scanners differ (strain red-soft or blue-soft, SWE
0-180 or 0-100 kPa ...), so an uploaded elastogram is read with *its* scanner's map: each pixel becomes the value
of the nearest colour of that map (CIE Lab; pixels far from every colour, e.g. gray B-mode showing through, are
"unknown"), then the value is drawn again with the product's map. A scanner that is not in :data:`SCANNER_MAPS`
is described by a crop of its colour bar (:func:`map_from_colour_bar`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.colormaps import colormap_for, rgb_to_lab
from usegan.vocab import Mode

UNKNOWN_DELTA_E = 18.0  # a pixel farther than this (Delta E 1976) from every colour of the map is not coloured


@dataclass(frozen=True)
class ScannerMap:
    """A scanner's colour scale: ``lut[0]`` is the colour of ``vmin`` ... ``lut[-1]`` of ``vmax``."""

    name: str  # shown in the picker
    mode: Mode  # strain / swe
    lut: np.ndarray  # (N, 3) uint8, N >= 8, low value -> high value
    vmin: float  # value of lut[0] (normalised strain, or kPa)
    vmax: float  # value of lut[-1]
    unit: str  # "relative strain" or "kPa"

    def decode(self, rgb: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` uint8 -> ``(H, W)`` float32 values; NaN where a pixel is on none of the map's colours."""
        pixels = np.asarray(rgb)[..., :3]
        if pixels.dtype != np.uint8 or pixels.ndim != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 elastogram, got {pixels.dtype} {pixels.shape}")
        flat = pixels.reshape(-1, 3)
        colours, inverse = np.unique(flat, axis=0, return_inverse=True)
        lab = rgb_to_lab(colours)
        lut_lab = rgb_to_lab(self.lut)
        best = np.empty(len(colours), np.int64)
        dist = np.empty(len(colours), np.float32)
        for start in range(0, len(colours), 4096):  # (chunk, N) distances: bounded memory for any image
            d = np.linalg.norm(lab[start : start + 4096, None, :] - lut_lab[None, :, :], axis=2)
            best[start : start + 4096] = d.argmin(axis=1)
            dist[start : start + 4096] = d.min(axis=1)
        values = self.vmin + best.astype(np.float32) * np.float32((self.vmax - self.vmin) / (len(self.lut) - 1))
        values[dist > UNKNOWN_DELTA_E] = np.nan
        return values[inverse.reshape(-1)].reshape(pixels.shape[:2]).astype(np.float32)

    def to_product_colours(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """The elastogram drawn in the product's colour map of this mode, and the share of unknown pixels.

        Strain is relative, so its values map directly; SWE keeps kPa (values above the product's 180 kPa clip).
        Pixels on none of the map's colours (the B-mode showing through outside the elastography box, text) are
        kept as they are: the product's map reads them back as unknown too."""
        values = self.decode(rgb)
        product = colormap_for(self.mode).apply(values)
        unknown = np.isnan(values)
        product[unknown] = np.asarray(rgb)[..., :3][unknown]
        return product, float(unknown.mean())


def _product_lut() -> np.ndarray:
    return colormap_for(Mode.STRAIN).lut


SCANNER_MAPS: dict[str, ScannerMap] = {
    m.name: m
    for m in (
        ScannerMap("Strain: red = soft, blue = hard (Hitachi/Fujifilm style)", Mode.STRAIN, _product_lut(), 0.0,
                   1.0, "relative strain"),
        ScannerMap("Strain: blue = soft, red = hard", Mode.STRAIN, _product_lut()[::-1].copy(), 0.0, 1.0,
                   "relative strain"),
        ScannerMap("SWE 0-180 kPa: blue = soft, red = stiff", Mode.SWE, _product_lut(), 0.0, 180.0, "kPa"),
        ScannerMap("SWE 0-100 kPa: blue = soft, red = stiff", Mode.SWE, _product_lut(), 0.0, 100.0, "kPa"),
        ScannerMap("SWE 0-60 kPa: blue = soft, red = stiff (liver)", Mode.SWE, _product_lut(), 0.0, 60.0, "kPa"),
    )
}  # fmt: skip


def map_from_colour_bar(
    bar: np.ndarray, mode: Mode | str, vmin: float, vmax: float, *, low_at: str = "bottom", name: str = ""
) -> ScannerMap:
    """A :class:`ScannerMap` from a crop of the scanner's colour bar (``(H, W, 3)`` uint8, the bar alone).

    The bar's colours are read along its long axis (the median across it, so tick marks and borders do not
    count); ``low_at`` says where ``vmin`` is: ``bottom`` / ``top`` for a vertical bar, ``left`` / ``right``.
    """
    arr = np.asarray(bar)[..., :3]
    if arr.ndim != 3 or arr.dtype != np.uint8 or min(arr.shape[:2]) < 1 or max(arr.shape[:2]) < 8:
        raise ValueError(f"the colour bar crop must be an (H, W, 3) uint8 image at least 8 px long, got {arr.shape}")
    if not vmax > vmin:
        raise ValueError(f"the bar's range must increase, got {vmin} .. {vmax}")
    if low_at in ("bottom", "top"):
        line = np.median(arr, axis=1)  # one colour per row
        line = line[::-1] if low_at == "bottom" else line
    elif low_at in ("left", "right"):
        line = np.median(arr, axis=0)
        line = line[::-1] if low_at == "right" else line
    else:
        raise ValueError(f"low_at must be bottom, top, left or right, got {low_at!r}")
    positions = np.linspace(0, len(line) - 1, 256)
    lut = np.stack([np.interp(positions, np.arange(len(line)), line[:, c]) for c in range(3)], axis=1)
    # a colour bar changes hue along it (a*, b* of CIE Lab); a gray ramp or a crop of the B-mode changes only in L*
    if float(np.ptp(rgb_to_lab(np.rint(lut).astype(np.uint8))[:, 1:], axis=0).max()) < 20:
        raise ValueError("the crop does not look like a colour bar (its colours hardly change along it)")
    mode = Mode(mode)
    unit = "kPa" if mode is Mode.SWE else "relative strain"
    return ScannerMap(name or f"colour bar {vmin:g}-{vmax:g} {unit}", mode, np.rint(lut).astype(np.uint8),
                      float(vmin), float(vmax), unit)  # fmt: skip
