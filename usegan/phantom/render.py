"""Colour a phantom's strain and stiffness into scanner-like elastograms inside an elastography box.

Both elastograms are ``(H, W, 3)`` uint8 the size of the B-mode: inside the box, pure colour-map pixels; outside
it, the gray B-mode, as a scanner screen shows it. The box is ``(x, y, w, h)`` in pixels.

Strain (SE) display, normalised to the box (docs/domain.md section 2): relative strain ``s / s_ref`` with ``s_ref``
the median strain in the box, on a logarithmic scale spanning ``1/R .. R`` (``R = range_factor``)::

    n = clip(0.5 + ln(s / s_ref) / (2 ln R), 0, 1)        s / s_ref = R ** (2 n - 1)

so the typical tissue of the box is green (0.5), tissue ``R`` times softer is red (1) and ``R`` times harder is
blue (0). The log scale keeps soft fat and hard carcinoma both on the scale, so a strain ratio can be read back
from the colours (inverse formula above). Cysts show the "blue-green-red" (BGR) layered artefact of strain
estimators inside anechoic fluid (Ueno et al., Ultrasound Med Biol 2007): displayed, but not in the true strain
used for labels.

SWE display: the true Young's modulus in kPa on the ``swe_colormap(vmin, vmax)`` scale (blue soft -> red stiff).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from usegan.colormaps import strain_colormap, swe_colormap

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class RenderConfig:
    range_factor: float = 8.0  # strain display spans s_ref / R (blue) .. s_ref * R (red), log scale
    swe_vmin_kpa: float = 0.0  # SWE colour scale, blue end, kPa
    swe_vmax_kpa: float = 180.0  # SWE colour scale, red end, kPa (breast preset)

    def __post_init__(self) -> None:
        if not self.range_factor > 1:
            raise ValueError(f"range_factor must be > 1, got {self.range_factor!r}")
        if not self.swe_vmax_kpa > self.swe_vmin_kpa:
            raise ValueError(f"SWE scale must increase, got {self.swe_vmin_kpa!r}..{self.swe_vmax_kpa!r}")

    def strain_scale(self) -> dict:
        """How normalised strain maps back to relative strain, for meta.json."""
        return {
            "kind": "log",
            "range_factor": self.range_factor,
            "reference": "median strain in the box",
            "formula": "n = clip(0.5 + ln(s / s_ref) / (2 ln R), 0, 1); s / s_ref = R ** (2 n - 1)",
        }


def box_mask(shape: tuple[int, int], box: Box) -> np.ndarray:
    """``(H, W)`` bool mask of the box ``(x, y, w, h)``."""
    x, y, w, h = box
    mask = np.zeros(shape, dtype=bool)
    mask[y : y + h, x : x + w] = True
    return mask


def choose_box(shape: tuple[int, int], lesion_mask: np.ndarray, skin_px: int, rng: np.random.Generator) -> Box:
    """An elastography box as an operator would place it: from just under the skin (so it holds fat for the
    reference) to well below the lesion, about twice the lesion's width, inside the image."""
    h, w = shape
    if lesion_mask.any():
        rows = np.flatnonzero(lesion_mask.any(axis=1))
        cols = np.flatnonzero(lesion_mask.any(axis=0))
        cx = 0.5 * (cols[0] + cols[-1])
        half = max(0.75 * (cols[-1] - cols[0] + 1), 0.25 * w) * rng.uniform(0.95, 1.25)
        bottom = rows[-1] + max(0.5 * (rows[-1] - rows[0] + 1), 0.1 * h) * rng.uniform(0.8, 1.4)
    else:
        cx = w * rng.uniform(0.35, 0.65)
        half = w * rng.uniform(0.25, 0.4)
        bottom = h * rng.uniform(0.6, 0.85)
    x0 = int(np.clip(round(cx - half), 0, w - 8))
    x1 = int(np.clip(round(cx + half), x0 + 8, w))
    y0 = int(np.clip(skin_px + rng.integers(1, max(2, h // 64 + 2)), 0, h - 8))
    y1 = int(np.clip(round(bottom), y0 + 8, h - max(1, h // 32)))
    return x0, y0, x1 - x0, y1 - y0


def normalise_strain(strain: np.ndarray, box: Box, config: RenderConfig = RenderConfig()) -> np.ndarray:
    """True axial strain ``(H, W)`` -> normalised strain in [0, 1] (1 = soft), referenced to the box median;
    NaN outside the box."""
    inside = box_mask(strain.shape, box)
    ref = float(np.median(strain[inside]))
    if not ref > 0:
        raise ValueError(f"median strain in the box must be positive, got {ref!r}")
    n = 0.5 + np.log(np.maximum(strain, 1e-12) / ref) / (2.0 * np.log(config.range_factor))
    out = np.clip(n, 0.0, 1.0).astype(np.float32)
    out[~inside] = np.nan
    return out


def bgr_artifact(normalised: np.ndarray, cyst_mask: np.ndarray) -> np.ndarray:
    """Replace the cyst's pixels by the layered blue (top) -> green -> red (bottom) pattern."""
    out = normalised.copy()
    rows = np.flatnonzero(cyst_mask.any(axis=1))
    if rows.size == 0:
        return out
    depth = (np.arange(normalised.shape[0], dtype=np.float32) - rows[0]) / max(rows[-1] - rows[0], 1)
    layered = np.clip(0.05 + 0.9 * depth, 0.0, 1.0)[:, None]
    out[cyst_mask] = np.broadcast_to(layered, out.shape)[cyst_mask]
    return np.where(np.isnan(normalised), np.nan, out).astype(np.float32)


def compose(bmode: np.ndarray, colour: np.ndarray, box: Box) -> np.ndarray:
    """Gray B-mode ``(H, W)`` uint8 outside the box, colour ``(H, W, 3)`` uint8 inside -> ``(H, W, 3)`` uint8."""
    out = np.repeat(bmode[..., None], 3, axis=2)
    x, y, w, h = box
    out[y : y + h, x : x + w] = colour[y : y + h, x : x + w]
    return out


def render_strain(bmode: np.ndarray, normalised: np.ndarray, box: Box) -> np.ndarray:
    """Normalised strain (NaN outside the box) -> SE elastogram RGB, red = soft, blue = hard."""
    return compose(bmode, strain_colormap().apply(np.nan_to_num(normalised, nan=0.5)), box)


def render_swe(
    bmode: np.ndarray, stiffness_kpa: np.ndarray, box: Box, config: RenderConfig = RenderConfig()
) -> np.ndarray:
    """Young's modulus in kPa -> SWE elastogram RGB, blue = soft, red = stiff, on the configured scale."""
    cmap = swe_colormap(config.swe_vmin_kpa, config.swe_vmax_kpa)
    return compose(bmode, cmap.apply(stiffness_kpa), box)
