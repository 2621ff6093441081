"""Colour maps for strain and shear-wave elastography, with inversion back to the scalar they encode.

Conventions (docs/domain.md section 2 -- they are *opposite* in meaning, though both run blue -> green -> red):

* **Strain (SE)**, Hitachi/Fujifilm: the scalar is *normalised strain* in [0, 1] inside the elastography box:
  1 = most strained = **soft = red**, 0.5 = intermediate = green, 0 = least strained = **hard = blue**.
* **Shear-wave (SWE)**, SuperSonic style: the scalar is Young's modulus in kPa on an absolute scale
  (default 0-180 kPa): **blue = soft, red = stiff**.

Both maps are a 256-entry lookup table along blue -> cyan -> green -> yellow -> red. ``apply`` maps scalars to
RGB; ``invert`` maps RGB back to the scalar by the nearest LUT colour in CIE Lab and returns that distance
(Delta E 1976) so pixels that are not on the map (gray B-mode showing through, annotations) are marked unknown
(NaN) instead of being silently scored.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

# Control points of the shared hue path, position in [0, 1] -> RGB in [0, 1].
_PATH = np.array(
    [
        [0.00, 0.00, 0.00, 0.55],  # dark blue
        [0.15, 0.00, 0.10, 1.00],  # blue
        [0.35, 0.00, 0.85, 1.00],  # cyan
        [0.50, 0.00, 0.85, 0.10],  # green
        [0.65, 0.95, 0.95, 0.00],  # yellow
        [0.85, 1.00, 0.20, 0.00],  # orange-red
        [1.00, 0.60, 0.00, 0.00],  # dark red
    ]
)
LUT_SIZE = 256
UNKNOWN_DELTA_E = 12.0  # a pixel farther than this (CIE76) from every LUT colour is "not on the map"
# "Is this pixel coloured": its channels spread (max - min, 0-255) more than this. Gray B-mode spreads ~0 (a tinted or
# JPEG-compressed one a little more); the map's least saturated entry (dark blue) spreads ~140. The one answer used
# by the training data's colour box, the review overlay, the colour distribution and the screen-capture crop.
COLOUR_CHROMA = 40


def _build_lut(n: int = LUT_SIZE) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    rgb = np.stack([np.interp(t, _PATH[:, 0], _PATH[:, c]) for c in (1, 2, 3)], axis=-1)
    return np.round(rgb * 255).astype(np.uint8)


_SHARED_LUT = _build_lut()
_SHARED_LUT.setflags(write=False)


def shared_lut() -> np.ndarray:
    """``(256, 3)`` uint8 RGB LUT shared by the strain and SWE maps (read-only): index 0 = blue ... 255 = red."""
    return _SHARED_LUT


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) uint8 or float in [0, 255] -> CIE Lab (..., 3) float32, D65 white."""
    c = np.asarray(rgb, dtype=np.float32) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ],
        dtype=np.float32,
    )
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)
    return lab.astype(np.float32)


@dataclass(frozen=True)
class Colormap:
    """A scalar <-> RGB lookup table. ``vmin``/``vmax`` give the scalar range that spans the LUT."""

    mode: str  # "strain" or "swe"
    vmin: float  # scalar at the blue end
    vmax: float  # scalar at the red end
    unit: str  # "relative strain" or "kPa"
    low_label: str  # meaning of the blue end, for colour bars
    high_label: str  # meaning of the red end

    def __post_init__(self) -> None:
        if not self.vmax > self.vmin:
            raise ValueError(f"colour map range must increase, got vmin={self.vmin} vmax={self.vmax}")

    @classmethod
    def from_scale(cls, mode: str, colour_scale: Mapping | None = None) -> Colormap:
        """The map a stored colour scale describes: ``{"vmin", "vmax", "unit"}`` as a checkpoint, a generation or an
        attached real elastogram carries it (:meth:`to_scale`); a missing scale or key takes the mode's default."""
        scale = colour_scale or {}
        return colormap_for(mode, scale.get("vmin"), scale.get("vmax"))

    def to_scale(self) -> dict:
        """The colour scale to store beside an image drawn with this map (read back by :meth:`from_scale`)."""
        return {"vmin": self.vmin, "vmax": self.vmax, "unit": self.unit}

    @cached_property
    def lut(self) -> np.ndarray:
        """(256, 3) uint8 RGB, index 0 = ``vmin`` (blue) ... 255 = ``vmax`` (red)."""
        return shared_lut()

    @cached_property
    def lut_lab(self) -> np.ndarray:
        return rgb_to_lab(self.lut)

    @property
    def resolution(self) -> float:
        """Scalar step between neighbouring LUT entries: the best precision ``invert`` can give."""
        return (self.vmax - self.vmin) / (LUT_SIZE - 1)

    def to_position(self, values: np.ndarray) -> np.ndarray:
        """Scalars (strain / kPa) -> colour-map positions in [0, 1] (clipped; NaN stays NaN)."""
        v = np.asarray(values, dtype=np.float32)
        return np.clip((v - self.vmin) / (self.vmax - self.vmin), 0.0, 1.0)

    def from_position(self, position: np.ndarray) -> np.ndarray:
        """Colour-map positions in [0, 1] -> scalars in the map's unit."""
        return (self.vmin + np.asarray(position, dtype=np.float32) * (self.vmax - self.vmin)).astype(np.float32)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Scalars of any shape -> uint8 RGB of shape ``values.shape + (3,)``. Out-of-range values clip;
        NaN maps to black (which ``invert`` reads back as unknown)."""
        v = np.asarray(values, dtype=np.float64)
        idx = np.clip(np.rint((v - self.vmin) / (self.vmax - self.vmin) * (LUT_SIZE - 1)), 0, LUT_SIZE - 1)
        out = self.lut[np.nan_to_num(idx, nan=0).astype(np.int64)]
        out[np.isnan(v)] = 0
        return out

    def invert(self, rgb: np.ndarray, max_delta_e: float = UNKNOWN_DELTA_E) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB(A) ``(..., 3|4)`` -> ``(scalar, distance)``, each of shape ``(...)``, float32.

        ``scalar`` is the value of the nearest LUT colour in CIE Lab, within ``resolution / 2`` of the value that
        was applied; NaN where that colour is farther than ``max_delta_e`` (Delta E 1976), i.e. not on the map.
        Colours are looked up in a table over all 2^24 RGB colours shared by every map with this LUT, filled
        lazily: a colour's nearest neighbour is searched once per process, so warm calls are a table gather.
        """
        arr = _check_rgb(rgb)
        flat = arr.reshape(-1, arr.shape[-1])
        packed = (flat[:, 0].astype(np.int32) << 16) | (flat[:, 1].astype(np.int32) << 8) | flat[:, 2]
        index, dist = _colour_index(self.lut).lookup(packed)
        scalar = (self.vmin + index.astype(np.float32) * np.float32(self.resolution)).astype(np.float32)
        dist = dist.astype(np.float32)
        scalar[dist > max_delta_e] = np.nan
        shape = arr.shape[:-1]
        return scalar.reshape(shape), dist.reshape(shape)


def lut_positions(rgb: np.ndarray, max_delta_e: float = UNKNOWN_DELTA_E) -> np.ndarray:
    """uint8 RGB(A) ``(..., 3|4)`` -> colour-map position ``(...)`` float32 in [0, 1] (0 = blue end, 1 = red
    end), NaN where the colour is not on the map. The position is what the generator predicts; it is the same for
    every map sharing the LUT (strain and SWE), whatever their scalar range."""
    arr = _check_rgb(rgb)
    flat = arr.reshape(-1, 3)
    packed = (flat[:, 0].astype(np.int32) << 16) | (flat[:, 1].astype(np.int32) << 8) | flat[:, 2]
    index, dist = _colour_index(shared_lut()).lookup(packed)
    position = index.astype(np.float32) / np.float32(LUT_SIZE - 1)
    position[dist.astype(np.float32) > max_delta_e] = np.nan
    return position.reshape(arr.shape[:-1])


def chroma(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3|4)`` uint8 -> ``(H, W)`` int16 channel spread ``max - min`` (0 = gray); ``(H, W)`` gray -> zeros."""
    arr = np.asarray(rgb)
    if arr.ndim == 2:
        return np.zeros(arr.shape, np.int16)
    colour = _check_rgb(arr).astype(np.int16)
    return colour.max(axis=-1) - colour.min(axis=-1)


def coloured_mask(rgb: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: pixels that carry colour (a colour-map pixel inside the box), not gray B-mode
    (:data:`COLOUR_CHROMA`)."""
    return chroma(rgb) > COLOUR_CHROMA


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.ndim < 1 or arr.shape[-1] not in (3, 4):
        raise ValueError(f"expected RGB(A) pixels with last axis 3 or 4, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer) or (arr.size and (arr.min() < 0 or arr.max() > 255)):
            raise ValueError(f"expected uint8 RGB values in [0, 255], got dtype {arr.dtype}")
        arr = arr.astype(np.uint8)
    return arr[..., :3]


class _ColourIndex:
    """Nearest-LUT-entry index and Lab distance for every 24-bit colour, computed on first sight.

    Memory: 16 MiB (uint8 index) + 32 MiB (float16 distance, NaN = not computed yet). Concurrent fills from
    several threads write identical values, so the lock only guards creating the tables.
    """

    def __init__(self, lut: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self._tree = cKDTree(rgb_to_lab(lut))
        self.index = np.zeros(1 << 24, dtype=np.uint8)
        self.dist = np.full(1 << 24, np.nan, dtype=np.float16)

    def lookup(self, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Packed ``0xRRGGBB`` int32 ``(N,)`` -> (LUT index uint8 ``(N,)``, distance float16 ``(N,)``)."""
        dist = self.dist[packed]
        missing = np.isnan(dist)
        if missing.any():
            new = np.unique(packed[missing])
            colours = np.stack([(new >> 16) & 255, (new >> 8) & 255, new & 255], -1)
            new_dist, new_index = self._tree.query(rgb_to_lab(colours))
            self.index[new] = new_index
            self.dist[new] = new_dist
            dist = self.dist[packed]
        return self.index[packed], dist


_INDEXES: dict[bytes, _ColourIndex] = {}
_INDEXES_LOCK = threading.Lock()


def _colour_index(lut: np.ndarray) -> _ColourIndex:
    key = lut.tobytes()
    with _INDEXES_LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = _ColourIndex(lut)
        return _INDEXES[key]


def strain_colormap() -> Colormap:
    """Strain elastography: normalised strain 0 (hard, blue) .. 1 (soft, red)."""
    return Colormap("strain", 0.0, 1.0, "relative strain", "hard", "soft")


def swe_colormap(vmin_kpa: float = 0.0, vmax_kpa: float = 180.0) -> Colormap:
    """Shear-wave elastography: Young's modulus ``vmin_kpa`` (soft, blue) .. ``vmax_kpa`` (stiff, red)."""
    return Colormap("swe", float(vmin_kpa), float(vmax_kpa), "kPa", "soft", "stiff")


def colormap_for(mode: str, vmin: float | None = None, vmax: float | None = None) -> Colormap:
    """The colour map of a mode name (``"strain"`` or ``"swe"``)."""
    if mode == "strain":
        return strain_colormap()
    if mode == "swe":
        return swe_colormap(0.0 if vmin is None else vmin, 180.0 if vmax is None else vmax)
    raise ValueError(f"mode must be 'strain' or 'swe', got {mode!r}")
